//! The "API Key Management" admin console served at `/admin/`.
//!
//! A dependency-free single page (HTML, CSS and plain JavaScript) compiled into the binary with
//! `include_str!`, so apikeyd ships as one file and the page always matches the API it talks to.
//! The page signs in with an admin API key kept in `sessionStorage` and calls the same JSON API
//! as vamscli (`/auth/api-keys`, `/roles`, `/user-roles`) on the same origin.
//!
//! # Layout
//! - `api/assets/admin/index.html`: the markup, the dialogs and no inline script or style.
//! - `api/assets/admin/app.js`: all behaviour.
//! - `api/assets/admin/app.css`: all styling.
//!
//! Every response carries `Cache-Control: no-cache` (a new binary must never be paired with an
//! old cached script) and `X-Content-Type-Options: nosniff`; the HTML also carries a strict
//! Content-Security-Policy that allows only same-origin scripts, styles and API calls, which is
//! why the assets contain no inline code, and `X-Frame-Options: DENY` next to CSP `frame-ancestors`
//! for browsers and scanners that only know the older header (clickjacking).

use actix_web::http::header;
use actix_web::{guard, web, HttpResponse, HttpResponseBuilder, Route};

const INDEX_HTML: &str = include_str!("../../assets/admin/index.html");
const APP_JS: &str = include_str!("../../assets/admin/app.js");
const APP_CSS: &str = include_str!("../../assets/admin/app.css");

/// Same-origin only: the page needs nothing from anywhere else, and nothing may frame it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// Registers the admin console routes: `GET /admin` (308 to `/admin/`), `GET /admin/`,
/// `GET /admin/app.js` and `GET /admin/app.css`, each also for `HEAD`.
///
/// The routes need no authentication: the page holds no data of its own, and every API call it
/// makes carries the admin key the user signs in with.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", get_or_head().to(redirect_to_index))
        .route("/admin/", get_or_head().to(index))
        .route("/admin/app.js", get_or_head().to(app_js))
        .route("/admin/app.css", get_or_head().to(app_css));
}

/// HEAD is answered like GET (actix-web drops the body), as link checkers and probes expect.
fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// 308 keeps the method; the page's relative links (`app.js`) resolve only under `/admin/`.
#[utoipa::path(method(get, head), path = "/admin", tag = "console",
    responses((status = 308, description = "To `/admin/`", headers(("Location" = String))), crate::openapi::Common))]
async fn redirect_to_index() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/admin/"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish()
}

#[utoipa::path(method(get, head), path = "/admin/", tag = "console",
    responses((status = 200, description = "The console page", content_type = "text/html", body = String), crate::openapi::Common))]
async fn index() -> HttpResponse {
    asset("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(INDEX_HTML)
}

#[utoipa::path(method(get, head), path = "/admin/app.js", tag = "console",
    responses((status = 200, description = "The console script", content_type = "application/javascript", body = String), crate::openapi::Common))]
async fn app_js() -> HttpResponse {
    asset("application/javascript; charset=utf-8").body(APP_JS)
}

#[utoipa::path(method(get, head), path = "/admin/app.css", tag = "console",
    responses((status = 200, description = "The console style sheet", content_type = "text/css", body = String), crate::openapi::Common))]
async fn app_css() -> HttpResponse {
    asset("text/css; charset=utf-8").body(APP_CSS)
}

/// Headers shared by every asset; the caller adds its own extras and the body.
fn asset(content_type: &'static str) -> HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::App;

    #[actix_web::test]
    async fn admin_without_slash_redirects_permanently() {
        let app = init_service(App::new().configure(config)).await;
        let res = call_service(&app, TestRequest::get().uri("/admin").to_request()).await;
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/admin/");
    }

    #[actix_web::test]
    async fn assets_have_their_type_and_safety_headers() {
        let app = init_service(App::new().configure(config)).await;
        let cases = [
            ("/admin/", "text/html; charset=utf-8", true),
            (
                "/admin/app.js",
                "application/javascript; charset=utf-8",
                false,
            ),
            ("/admin/app.css", "text/css; charset=utf-8", false),
        ];
        for (uri, content_type, has_csp) in cases {
            let res = call_service(&app, TestRequest::get().uri(uri).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK, "{uri}");
            let header_of = |name| res.headers().get(name).and_then(|v| v.to_str().ok());
            assert_eq!(header_of(header::CONTENT_TYPE), Some(content_type), "{uri}");
            assert_eq!(header_of(header::CACHE_CONTROL), Some("no-cache"), "{uri}");
            assert_eq!(
                header_of(header::X_CONTENT_TYPE_OPTIONS),
                Some("nosniff"),
                "{uri}"
            );
            let csp = header_of(header::CONTENT_SECURITY_POLICY);
            assert_eq!(csp.is_some(), has_csp, "{uri}");
            let frames = header_of(header::X_FRAME_OPTIONS);
            assert_eq!(frames, has_csp.then_some("DENY"), "{uri}");
        }
    }

    #[actix_web::test]
    async fn head_is_answered_like_get() {
        let app = init_service(App::new().configure(config)).await;
        let res = call_service(
            &app,
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/admin/")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[test]
    fn page_has_no_inline_script_or_style_the_csp_would_block() {
        assert!(!INDEX_HTML.contains("<script>"), "inline <script>");
        assert!(!INDEX_HTML.contains("<style"), "inline <style>");
        assert!(!INDEX_HTML.contains(" style="), "style attribute");
        assert!(!INDEX_HTML.contains(" onclick="), "inline handler");
    }
}

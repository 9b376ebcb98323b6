//! The admin console's page cannot be framed: CSP `frame-ancestors 'none'` and, for older browsers
//! and scanners, `X-Frame-Options: DENY`.
use crate::helpers::get;
use tests::spawn_app;

#[tokio::test]
async fn the_console_page_forbids_framing() {
    let app = spawn_app().await;
    let page = get(&app, "/admin/", None, &[]).await;
    page.assert_status(200);
    assert_eq!(
        page.header("x-frame-options"),
        Some("DENY"),
        "{}",
        page.what
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

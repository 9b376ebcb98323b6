//! `apikeyd`: see `apikeyd --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    api::cli::main()
}

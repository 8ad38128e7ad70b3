//! The `holdfast` entry point under a name the end-to-end tests can locate.

fn main() -> std::process::ExitCode {
    holdfast_daemon::cli::main()
}

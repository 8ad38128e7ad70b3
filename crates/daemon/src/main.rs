//! The `holdfast` command.

fn main() -> std::process::ExitCode {
    holdfast_daemon::cli::main()
}

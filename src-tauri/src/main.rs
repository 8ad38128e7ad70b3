// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    // The in-process daemon hands this same binary to coding agents as their
    // approval helper (an MCP server on stdio): no window for that.
    if std::env::args().nth(1).as_deref() == Some("_mcp-approve") {
        return holdfast_daemon::agents::mcp_approve::main_blocking();
    }
    holdfast_desktop::run();
    std::process::ExitCode::SUCCESS
}

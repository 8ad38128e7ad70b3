//! Rebuild when the web UI changes: its files are embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=../../ui");
}

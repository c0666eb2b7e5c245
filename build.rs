//! Makes cargo rebuild rdauth when a file under `templates/` is added, removed or changed.
//!
//! `include_dir!` embeds the template tree at compile time, but on stable Rust the macro cannot
//! tell cargo which files it read, so a new template would otherwise go unnoticed until some
//! source file changed.

fn main() {
    println!("cargo:rerun-if-changed=templates");
}

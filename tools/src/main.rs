//! `emberflow`: train, sample and inspect energy-based models.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None | Some("-h") | Some("--help") => {
            println!("emberflow {}", env!("CARGO_PKG_VERSION"));
            println!("usage: emberflow <command>");
            println!("commands arrive with the trainer, model-file and firmware work");
            Ok(())
        }
        Some("--version") | Some("-V") => {
            println!("emberflow {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(other) => anyhow::bail!("unknown command `{other}` (try `emberflow --help`)"),
    }
}

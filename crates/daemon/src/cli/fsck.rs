//! `holdfast fsck`: check the block store and the manifests that use it.

use clap::Args;
use holdfast_core::store::BlockStore;
use holdfast_core::vaults::fsck;

use super::Location;

#[derive(Args)]
pub struct FsckArgs {
    #[command(flatten)]
    location: Location,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Exit code when damage is found.
pub const EXIT_DAMAGED: u8 = 3;

pub fn run(args: FsckArgs) -> anyhow::Result<bool> {
    let paths = args.location.paths()?;
    if !paths.catalog().exists() {
        anyhow::bail!("no catalog in {}", paths.data_dir().display());
    }
    let store = BlockStore::open(&paths.blocks())?;
    let report = fsck::check(&paths.catalog(), &store)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "checked {} versions and {} blocks: {} damaged, {} missing, {} unreferenced",
            report.versions_checked,
            report.blocks_checked,
            report.damaged_blocks.len(),
            report.missing.len(),
            report.unreferenced_blocks
        );
        for b in &report.damaged_blocks {
            println!("damaged block {b}");
        }
        for m in &report.missing {
            println!(
                "missing block {} of {} (vault {}, version {})",
                m.block, m.path, m.vault_id, m.version_id
            );
        }
    }
    Ok(report.is_clean())
}

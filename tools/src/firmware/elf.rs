//! Flash and static RAM of a firmware ELF, read with the `object` crate (no binutils needed).

use anyhow::{Context, Result};
use object::{Object, ObjectSection};
use std::path::Path;

/// Section sizes, bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// `.vector_table`.
    pub vector_table: u64,
    /// `.text`.
    pub text: u64,
    /// `.rodata`.
    pub rodata: u64,
    /// `.data` (in flash and in RAM).
    pub data: u64,
    /// `.bss`.
    pub bss: u64,
    /// `.uninit`.
    pub uninit: u64,
}

impl Footprint {
    /// Flash: vector table + `.text` + `.rodata` + the `.data` image.
    pub fn flash(&self) -> u64 {
        self.vector_table + self.text + self.rodata + self.data
    }

    /// Static RAM: `.data` + `.bss` + `.uninit` (add the stack high-water mark for the total).
    pub fn static_ram(&self) -> u64 {
        self.data + self.bss + self.uninit
    }
}

/// The section sizes of the ELF at `path`.
pub fn footprint(path: &Path) -> Result<Footprint> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file = object::File::parse(&*bytes)
        .with_context(|| format!("parsing {} as an object file", path.display()))?;
    let size = |name: &str| file.section_by_name(name).map_or(0, |s| s.size());
    Ok(Footprint {
        vector_table: size(".vector_table"),
        text: size(".text"),
        rodata: size(".rodata"),
        data: size(".data"),
        bss: size(".bss"),
        uninit: size(".uninit"),
    })
}

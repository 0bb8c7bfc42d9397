//! Training checkpoints: everything needed to continue a run exactly — parameters, Adam
//! moments, the parameter averages, the persistent chains, the data order and the generator —
//! in one little-endian binary file with a CRC-32, written atomically.

use anyhow::{Context, Result, bail, ensure};
use emberflow_core::model::crc32;
use std::path::Path;

const MAGIC: &[u8; 4] = b"EFCK";
const VERSION: u32 = 1;

/// A run's state between two iterations.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Iterations done.
    pub iteration: u64,
    /// Dimension, batch size and bank size of the run (checked on resume).
    pub shape: [u64; 3],
    /// Seed of the run.
    pub seed: u64,
    /// Master generator state.
    pub rng: [u32; 4],
    /// Data order and the position in it.
    pub order: Vec<u32>,
    /// Position in `order`.
    pub cursor: u64,
    /// Energy parameters, then flow parameters (core order).
    pub params: Vec<Vec<f32>>,
    /// Adam first moments (same layout as `params`).
    pub adam_m: Vec<Vec<f32>>,
    /// Adam second moments.
    pub adam_v: Vec<Vec<f32>>,
    /// Adam steps taken (energy, flow).
    pub adam_t: [u64; 2],
    /// Learning-rate factor after roll-backs.
    pub lr_factor: f64,
    /// Parameter averages.
    pub averages: Vec<Vec<f32>>,
    /// Number of energy tensors at the front of `params`.
    pub energy_tensors: u64,
    /// Chain positions, row-major `bank × D`.
    pub bank_x: Vec<f32>,
    /// Chain step sizes.
    pub bank_step: Vec<f32>,
    /// Chain smoothed acceptances.
    pub bank_accept: Vec<f32>,
    /// Skipped steps (energy, flow) and roll-backs.
    pub counters: [u64; 3],
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32s(&mut self, v: &[f32]) {
        self.u64(v.len() as u64);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn lists(&mut self, v: &[Vec<f32>]) {
        self.u64(v.len() as u64);
        for t in v {
            self.f32s(t);
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        ensure!(self.0.len() >= n, "checkpoint is truncated");
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn len(&mut self) -> Result<usize> {
        let n = self.u64()?;
        ensure!(
            n <= self.0.len() as u64,
            "checkpoint has an impossible length {n}"
        );
        Ok(n as usize)
    }
    fn f32s(&mut self) -> Result<Vec<f32>> {
        let n = self.len()?;
        let b = self.take(n.checked_mul(4).context("checkpoint length overflow")?)?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }
    fn lists(&mut self) -> Result<Vec<Vec<f32>>> {
        let n = self.len()?;
        (0..n).map(|_| self.f32s()).collect()
    }
}

impl Checkpoint {
    /// The file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.0.extend_from_slice(MAGIC);
        w.0.extend_from_slice(&VERSION.to_le_bytes());
        w.u64(self.iteration);
        self.shape.iter().for_each(|v| w.u64(*v));
        w.u64(self.seed);
        self.rng.iter().for_each(|v| w.u64(u64::from(*v)));
        w.u64(self.order.len() as u64);
        self.order.iter().for_each(|v| w.u64(u64::from(*v)));
        w.u64(self.cursor);
        w.lists(&self.params);
        w.lists(&self.adam_m);
        w.lists(&self.adam_v);
        self.adam_t.iter().for_each(|v| w.u64(*v));
        w.u64(self.lr_factor.to_bits());
        w.lists(&self.averages);
        w.u64(self.energy_tensors);
        w.f32s(&self.bank_x);
        w.f32s(&self.bank_step);
        w.f32s(&self.bank_accept);
        self.counters.iter().for_each(|v| w.u64(*v));
        let crc = crc32(&w.0);
        w.0.extend_from_slice(&crc.to_le_bytes());
        w.0
    }

    /// Parse file bytes; every malformed input is an error naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        ensure!(bytes.len() >= 12, "checkpoint is truncated");
        ensure!(
            &bytes[..4] == MAGIC,
            "not an emberflow checkpoint (bad magic)"
        );
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        ensure!(
            crc32(body).to_le_bytes() == crc,
            "checkpoint checksum mismatch (corrupted file)"
        );
        let version = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
        if version != VERSION {
            bail!("unsupported checkpoint version {version} (this build reads {VERSION})");
        }
        let mut r = Reader(&body[8..]);
        let iteration = r.u64()?;
        let shape = [r.u64()?, r.u64()?, r.u64()?];
        let seed = r.u64()?;
        let mut rng = [0u32; 4];
        for v in rng.iter_mut() {
            *v = u32::try_from(r.u64()?).context("bad generator state")?;
        }
        let n = r.len()?;
        let order = (0..n)
            .map(|_| u32::try_from(r.u64()?).context("bad data index"))
            .collect::<Result<Vec<_>>>()?;
        let cp = Checkpoint {
            iteration,
            shape,
            seed,
            rng,
            order,
            cursor: r.u64()?,
            params: r.lists()?,
            adam_m: r.lists()?,
            adam_v: r.lists()?,
            adam_t: [r.u64()?, r.u64()?],
            lr_factor: f64::from_bits(r.u64()?),
            averages: r.lists()?,
            energy_tensors: r.u64()?,
            bank_x: r.f32s()?,
            bank_step: r.f32s()?,
            bank_accept: r.f32s()?,
            counters: [r.u64()?, r.u64()?, r.u64()?],
        };
        ensure!(r.0.is_empty(), "checkpoint has trailing bytes");
        Ok(cp)
    }

    /// Read a checkpoint file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
    }

    /// Write atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::fs::write_bytes_atomically(path, &self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            iteration: 7,
            shape: [2, 64, 256],
            seed: 3,
            rng: [1, 2, 3, 4],
            order: vec![2, 0, 1],
            cursor: 1,
            params: vec![vec![1.0, 2.0], vec![3.0]],
            adam_m: vec![vec![0.1, 0.2], vec![0.3]],
            adam_v: vec![vec![0.01, 0.02], vec![0.03]],
            adam_t: [7, 7],
            lr_factor: 0.5,
            averages: vec![vec![1.5, 2.5], vec![3.5]],
            energy_tensors: 1,
            bank_x: vec![0.0, 1.0],
            bank_step: vec![0.01],
            bank_accept: vec![0.75],
            counters: [0, 1, 2],
        }
    }

    #[test]
    fn round_trip_and_corruption() {
        let c = sample();
        let bytes = c.to_bytes();
        assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), c);
        for cut in [0, 5, 11, bytes.len() - 1] {
            assert!(Checkpoint::from_bytes(&bytes[..cut]).is_err());
        }
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        let e = Checkpoint::from_bytes(&flipped).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(
            Checkpoint::from_bytes(&magic)
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
    }
}

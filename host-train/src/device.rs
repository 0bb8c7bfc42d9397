//! Where candle runs the gradient steps: the CPU (default) or, in a build with the `cuda`
//! feature, a CUDA device. The negatives are drawn by emberflow-core's kernel on the CPU cores
//! either way; only the networks' forward/backward passes and Adam move.

use anyhow::{Context, Result, bail};
use candle_core::Device;

/// The device named by `spec`: `cpu`, `cuda` (device 0) or `cuda:N`.
pub fn parse_device(spec: &str) -> Result<Device> {
    let ordinal = match spec {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        s => match s.strip_prefix("cuda:") {
            Some(n) => n
                .parse::<usize>()
                .with_context(|| format!("device `{s}`: `{n}` is not a device number"))?,
            None => bail!("unknown device `{s}` (expected cpu, cuda or cuda:N)"),
        },
    };
    cuda(ordinal)
}

#[cfg(feature = "cuda")]
fn cuda(ordinal: usize) -> Result<Device> {
    Device::new_cuda(ordinal).with_context(|| format!("opening CUDA device {ordinal}"))
}

#[cfg(not(feature = "cuda"))]
fn cuda(ordinal: usize) -> Result<Device> {
    bail!(
        "device cuda:{ordinal}: this build has no CUDA support; rebuild with `--features cuda` \
         (needs the CUDA toolkit)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(parse_device("cpu").unwrap().is_cpu());
        let e = parse_device("gpu").unwrap_err().to_string();
        assert!(e.contains("unknown device `gpu`"), "{e}");
        let e = format!("{:#}", parse_device("cuda:x").unwrap_err());
        assert!(e.contains("not a device number"), "{e}");
        #[cfg(not(feature = "cuda"))]
        {
            let e = parse_device("cuda:1").unwrap_err().to_string();
            assert!(e.contains("no CUDA support") && e.contains("cuda:1"), "{e}");
        }
    }
}

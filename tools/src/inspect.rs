//! `emberflow inspect MODEL.efm`: print a model file's header, layer shapes, encoding, size,
//! checksum and, for int8/int16 files, the quantisation errors recorded at export.

use anyhow::{Context, Result};
use emberflow_core::GlobalMove;
use emberflow_core::model::{Encoding, FlowSpec, Header, ModelView, NetSpec};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `emberflow inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (`.efm`).
    pub model: PathBuf,
}

/// Run the command: read, check and describe the file on stdout.
pub fn run(args: &Args) -> Result<()> {
    let path = &args.model;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let view = ModelView::parse(&bytes)
        .with_context(|| format!("{} is not a valid model file", path.display()))?;
    print!("{}", describe(&view, path));
    Ok(())
}

fn list(values: impl Iterator<Item = f32>) -> String {
    let items: Vec<String> = values.map(|v| format!("{v}")).collect();
    format!("[{}]", items.join(", "))
}

fn net_shape(net: &NetSpec) -> String {
    let mut widths = vec![net.input.to_string()];
    widths.extend(net.hidden.as_slice().iter().map(u16::to_string));
    widths.push(net.output.to_string());
    widths.join(" -> ")
}

/// The encoding of every tensor, or `None` when they differ.
fn uniform_encoding(view: &ModelView<'_>) -> Option<Encoding> {
    let mut encodings = view.tensors().filter_map(|t| t.ok().map(|t| t.encoding));
    let first = encodings.next()?;
    encodings.all(|e| e == first).then_some(first)
}

fn describe_flow(out: &mut String, header: &Header<'_>, flow: &FlowSpec<'_>) {
    let dim = header.dim;
    let _ = writeln!(
        out,
        "flow       RealNVP, {} blocks x 2 couplings, split {}|{}, conditioners {} ({:?}), \
         {} parameters",
        flow.blocks,
        flow.split,
        dim - flow.split,
        net_shape(&flow.net(0, dim)),
        flow.activation,
        header.flow_params()
    );
    let _ = writeln!(out, "  base sigma   {}", list(flow.base_sigma.iter()));
    for c in 0..flow.couplings() {
        let (cond, trans) = flow.mask(c, dim);
        let _ = writeln!(
            out,
            "  coupling {c:<3} conditions on {:?}, moves {:?}, scale bound {}",
            cond.iter().collect::<Vec<_>>(),
            trans.iter().collect::<Vec<_>>(),
            flow.scale_factors.get(c).unwrap_or(f32::NAN)
        );
    }
}

/// The report `emberflow inspect` prints.
pub fn describe(view: &ModelView<'_>, path: &Path) -> String {
    let h = view.header();
    let mut out = String::new();
    let _ = writeln!(out, "file       {}", path.display());
    let _ = writeln!(
        out,
        "format     emberflow model file, version {}",
        view.version()
    );
    let _ = writeln!(out, "size       {} bytes", view.size());
    let _ = writeln!(out, "checksum   CRC-32 {:#010x} (verified)", view.crc());
    let _ = writeln!(out, "kind       {}", h.kind);
    let _ = writeln!(out, "dimension  {}", h.dim);
    let encoding = match uniform_encoding(view) {
        Some(Encoding::F32) => "f32".to_string(),
        Some(e) => format!("{e} weights, symmetric per-output-channel f32 scales, f32 biases"),
        None => "mixed".to_string(),
    };
    let _ = writeln!(out, "encoding   {encoding}");
    let _ = writeln!(
        out,
        "data       x_data = shift + scale * x_model; shift {}, scale {}",
        list(h.normalization.shift.iter()),
        list(h.normalization.scale.iter())
    );
    if let Some(e) = &h.energy {
        let _ = writeln!(
            out,
            "energy     {} ({:?}), {} parameters, tilted by N(0, diag sigma^2)",
            net_shape(&e.net),
            e.net.activation,
            h.energy_params()
        );
        let _ = writeln!(out, "  tilt sigma   {}", list(e.tilt_sigma.iter()));
    }
    if let Some(f) = &h.flow {
        describe_flow(&mut out, h, f);
    }
    let s = &h.sampler;
    let global = match s.global {
        GlobalMove::None => "none".to_string(),
        GlobalMove::Imh => "independent MH".to_string(),
        GlobalMove::Isir { particles } => format!("i-SIR, N = {particles} particles"),
    };
    let _ = writeln!(
        out,
        "sampler    step size {}, global move {global}, K = {} MALA steps, R = {} rounds, {} chains",
        s.step_size, s.mala_steps, s.rounds, s.chains
    );
    match &s.adaptation {
        Some(a) => {
            let _ = writeln!(
                out,
                "  adaptation   target {}, factor {}, tolerance {}, smoothing {}, max step {}",
                a.target, a.factor, a.tolerance, a.smoothing, a.max_step
            );
        }
        None => {
            let _ = writeln!(out, "  adaptation   off");
        }
    }
    let t = &h.training;
    let _ = writeln!(
        out,
        "training   data set {:?}, {} iterations, seed {}",
        t.dataset, t.iterations, t.seed
    );
    for (name, value) in t.metrics.as_slice() {
        let _ = writeln!(out, "  {name:<12} {value}");
    }
    let q = &h.quant;
    if q.quantized_weights > 0 {
        let _ = writeln!(
            out,
            "quantisation {} weights: max |s*q - w| {:.3e}, rms {:.3e}, max |s*q - w|/s {:.3}",
            q.quantized_weights, q.max_abs_error, q.rms_error, q.max_error_over_scale
        );
        if let Some(m) = &q.model {
            let _ = writeln!(
                out,
                "  vs f32 on {} points: energy max |dU| {:.3e}, rms {:.3e}; \
                 flow max |d ln lambda| {:.3e}, rms {:.3e}",
                m.points, m.energy_max_abs, m.energy_rms, m.log_density_max_abs, m.log_density_rms
            );
        }
    } else {
        let _ = writeln!(out, "quantisation none");
    }
    let _ = writeln!(out, "tensors    {}", h.tensor_count());
    let _ = writeln!(
        out,
        "  {:>3}  {:<18} {:>9}  {:<8} {:>7}",
        "#", "layer", "out x in", "encoding", "bytes"
    );
    for t in view.tensors().flatten() {
        let _ = writeln!(
            out,
            "  {:>3}  {:<18} {:>9}  {:<8} {:>7}",
            t.slot.index,
            t.slot.to_string(),
            format!("{}x{}", t.slot.shape[0], t.slot.shape[1]),
            t.encoding.name(),
            t.data_len()
        );
    }
    out
}

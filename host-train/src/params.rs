//! The candle parameters as host vectors: both the candle nets ([`crate::nets`]) and the
//! host model ([`crate::host_model::HostModel`]) list their tensors in core's canonical order,
//! so the copy is positional (and [`HostModel::set`](crate::host_model::HostModel::set)
//! checks every length).

use anyhow::Result;
use candle_core::Tensor;

/// Flatten tensors to host vectors (one per parameter tensor).
pub fn to_host(tensors: &[Tensor]) -> Result<Vec<Vec<f32>>> {
    tensors
        .iter()
        .map(|t| Ok(t.flatten_all()?.to_vec1::<f32>()?))
        .collect()
}

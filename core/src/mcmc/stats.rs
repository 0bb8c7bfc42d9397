//! `StepStats`: what the kernels did.

/// Counts of proposals, acceptances and non-finite rejections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepStats {
    /// MALA proposals.
    pub local_proposed: u64,
    /// MALA proposals accepted.
    pub local_accepted: u64,
    /// Global moves (IMH proposals, or i-SIR steps).
    pub global_proposed: u64,
    /// Global moves that changed the state.
    pub global_accepted: u64,
    /// Proposals (MALA, IMH, or i-SIR particles) rejected for a non-finite value.
    pub nonfinite: u64,
}

impl StepStats {
    /// Fraction of MALA proposals accepted (0 if none).
    pub fn local_acceptance(&self) -> f32 {
        ratio(self.local_accepted, self.local_proposed)
    }

    /// Fraction of global moves that changed the state (0 if none).
    pub fn global_acceptance(&self) -> f32 {
        ratio(self.global_accepted, self.global_proposed)
    }

    /// Add another set of counts.
    pub fn merge(&mut self, other: &StepStats) {
        self.local_proposed += other.local_proposed;
        self.local_accepted += other.local_accepted;
        self.global_proposed += other.global_proposed;
        self.global_accepted += other.global_accepted;
        self.nonfinite += other.nonfinite;
    }
}

fn ratio(a: u64, b: u64) -> f32 {
    if b == 0 {
        0.0
    } else {
        (a as f64 / b as f64) as f32
    }
}

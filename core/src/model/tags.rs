//! The `u8` tags of a model file's enumerations: what the file holds ([`ModelKind`], which also
//! names itself in messages) and the hidden layers' activation. (The weight encoding's tag is
//! [`super::Encoding::tag`].)

use crate::activation::ActivationKind;

/// What a model file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ModelKind {
    /// A tilted energy `U = E_θ − ln ρ` only.
    Energy,
    /// A RealNVP flow only.
    Flow,
    /// The joint model of flowMC-EBM: the tilted energy and its flow proposal.
    EnergyFlow,
}

impl ModelKind {
    /// The tag stored in a file.
    pub const fn tag(self) -> u8 {
        match self {
            ModelKind::Energy => 0,
            ModelKind::Flow => 1,
            ModelKind::EnergyFlow => 2,
        }
    }

    /// The kind of a tag.
    pub const fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0 => Some(ModelKind::Energy),
            1 => Some(ModelKind::Flow),
            2 => Some(ModelKind::EnergyFlow),
            _ => None,
        }
    }

    /// `"energy"`, `"flow"` or `"energy+flow"`.
    pub const fn name(self) -> &'static str {
        match self {
            ModelKind::Energy => "energy",
            ModelKind::Flow => "flow",
            ModelKind::EnergyFlow => "energy+flow",
        }
    }

    /// The name with its article, for messages ("an energy", "a flow", …).
    pub const fn article_name(self) -> &'static str {
        match self {
            ModelKind::Energy => "an energy",
            ModelKind::Flow => "a flow",
            ModelKind::EnergyFlow => "an energy+flow",
        }
    }

    /// Whether the file has an energy section.
    pub const fn has_energy(self) -> bool {
        matches!(self, ModelKind::Energy | ModelKind::EnergyFlow)
    }

    /// Whether the file has a flow section.
    pub const fn has_flow(self) -> bool {
        matches!(self, ModelKind::Flow | ModelKind::EnergyFlow)
    }
}

impl core::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The tag of an activation in a file.
pub const fn activation_tag(kind: ActivationKind) -> u8 {
    match kind {
        ActivationKind::Identity => 0,
        ActivationKind::Relu => 1,
        ActivationKind::LeakyRelu => 2,
        ActivationKind::Silu => 3,
        ActivationKind::Tanh => 4,
    }
}

/// The activation of a tag.
pub const fn activation_from_tag(tag: u8) -> Option<ActivationKind> {
    match tag {
        0 => Some(ActivationKind::Identity),
        1 => Some(ActivationKind::Relu),
        2 => Some(ActivationKind::LeakyRelu),
        3 => Some(ActivationKind::Silu),
        4 => Some(ActivationKind::Tanh),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for k in [ModelKind::Energy, ModelKind::Flow, ModelKind::EnergyFlow] {
            assert_eq!(ModelKind::from_tag(k.tag()), Some(k));
        }
        for t in 0..=4 {
            assert_eq!(activation_tag(activation_from_tag(t).unwrap()), t);
        }
        assert_eq!(activation_from_tag(5), None);
    }
}

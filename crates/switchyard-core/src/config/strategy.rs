//! How a route uses its targets: in the order written, shared by weight, or balanced by what
//! the gateway sees of each (requests in flight, time to first token, tokens this minute).

use serde::{Deserialize, Serialize};

use super::{Profile, RouteSpec, Rule, TargetSpec};

/// `strategy = "ordered" | "weighted" | "least_busy" | "lowest_latency" | "usage"` on a rule,
/// a default route or a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Strategy {
    /// The targets in the order written (the first that answers wins), then the fallbacks.
    #[default]
    Ordered,
    /// Traffic shared among the targets by their `weight` (default 1), then the fallbacks.
    Weighted,
    /// The target whose backend has the fewest requests in flight first (ties: the order
    /// written), then the fallbacks.
    LeastBusy,
    /// The target with the shortest moving time to first token first (one not measured yet
    /// goes first, so each gets measured), then the fallbacks.
    LowestLatency,
    /// The target whose backend served the fewest tokens this minute first, then the
    /// fallbacks.
    Usage,
}

impl Strategy {
    /// The name the config file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Ordered => "ordered",
            Strategy::Weighted => "weighted",
            Strategy::LeastBusy => "least_busy",
            Strategy::LowestLatency => "lowest_latency",
            Strategy::Usage => "usage",
        }
    }

    /// What the strategy does, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Strategy::Ordered => "its targets are tried in the order written",
            Strategy::Weighted => "traffic is shared among its targets by weight",
            Strategy::LeastBusy => "the target with the fewest requests in flight goes first",
            Strategy::LowestLatency => {
                "the target with the shortest time to first token goes first"
            }
            Strategy::Usage => "the target that served the fewest tokens this minute goes first",
        }
    }

    /// The strategy a route runs with: its own, else its profile's. With neither, a route
    /// whose targets carry a `weight` keeps being balanced (files written before strategies
    /// existed asked for it that way); any other is ordered.
    pub fn effective(
        route: Option<Strategy>,
        profile: Option<Strategy>,
        targets: &[TargetSpec],
    ) -> Strategy {
        route.or(profile).unwrap_or_else(|| {
            if targets.iter().any(|t| t.weight.is_some()) {
                Strategy::Weighted
            } else {
                Strategy::Ordered
            }
        })
    }
}

impl RouteSpec {
    /// The targets, in the order written.
    pub fn targets(&self) -> &[TargetSpec] {
        match self {
            RouteSpec::Route { targets, .. } => targets,
            RouteSpec::Target(target) => std::slice::from_ref(target),
        }
    }

    pub fn fallbacks(&self) -> &[TargetSpec] {
        match self {
            RouteSpec::Route { fallbacks, .. } => fallbacks,
            RouteSpec::Target(_) => &[],
        }
    }

    /// The strategy written on the route itself, if any.
    pub fn strategy(&self) -> Option<Strategy> {
        match self {
            RouteSpec::Route { strategy, .. } => *strategy,
            RouteSpec::Target(_) => None,
        }
    }
}

impl Profile {
    /// The strategy `rule` (one of this profile's rules) runs with.
    pub fn rule_strategy(&self, rule: &Rule) -> Strategy {
        Strategy::effective(rule.strategy, self.strategy, &rule.targets)
    }

    /// The strategy the default route runs with; `None` when the profile has no default.
    pub fn default_strategy(&self) -> Option<Strategy> {
        self.default
            .as_ref()
            .map(|route| Strategy::effective(route.strategy(), self.strategy, route.targets()))
    }
}

//! The portal's configuration: where it is mounted, the early-warning thresholds per state, and
//! the dispatch-time target the statistics measure compliance against. Read once at start.

use std::time::Duration;

use orderflow_shared::lifecycle::State;

/// Thresholds when `WARN_THRESHOLDS` is not set: an order should leave `received` and
/// `registered` within minutes, and the DTE stages within a couple of hours.
pub const DEFAULT_THRESHOLDS: &str =
    "received=15m,registered=15m,issuance_dte=1h,broadcast_dte=2h,error=30m,broadcast_failed=30m";

/// Dispatch within this many hours of registration counts as compliant unless configured.
pub const DEFAULT_DISPATCH_TARGET_HOURS: u32 = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalConfig {
    /// The path the router is mounted at as the browser sees it (`/console`, or
    /// `/prod/console` behind an API Gateway stage): every link and form starts with it.
    pub base: String,
    /// How long an order may stay in a state before it is an early warning.
    pub thresholds: Vec<(State, Duration)>,
    pub dispatch_target_hours: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            base: "/console".into(),
            thresholds: parse_thresholds(DEFAULT_THRESHOLDS).expect("the default thresholds parse"),
            dispatch_target_hours: DEFAULT_DISPATCH_TARGET_HOURS,
        }
    }
}

impl PortalConfig {
    /// From `CONSOLE_BASE`, `WARN_THRESHOLDS` and `DISPATCH_TARGET_HOURS`, each optional.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut config = Self::default();
        if let Some(base) = get("CONSOLE_BASE") {
            if !base.starts_with('/') || base.ends_with('/') {
                return Err(format!("CONSOLE_BASE must start and not end with '/': {base:?}"));
            }
            config.base = base;
        }
        if let Some(text) = get("WARN_THRESHOLDS") {
            config.thresholds = parse_thresholds(&text)?;
        }
        if let Some(hours) = get("DISPATCH_TARGET_HOURS") {
            config.dispatch_target_hours =
                hours.parse().ok().filter(|h| *h > 0).ok_or_else(|| format!("DISPATCH_TARGET_HOURS: {hours:?}"))?;
        }
        Ok(config)
    }

    pub fn threshold(&self, state: State) -> Option<Duration> {
        self.thresholds.iter().find(|(s, _)| *s == state).map(|(_, d)| *d)
    }
}

/// `state=15m,broadcast_dte=2h,…`: a state name and a whole number of `s`, `m`, `h` or `d`.
pub fn parse_thresholds(text: &str) -> Result<Vec<(State, Duration)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, amount) = part.split_once('=').ok_or_else(|| format!("threshold {part:?}: want state=15m"))?;
            let state = State::parse(name.trim()).ok_or_else(|| format!("threshold {part:?}: unknown state"))?;
            Ok((state, parse_duration(amount.trim()).ok_or_else(|| format!("threshold {part:?}: bad duration"))?))
        })
        .collect()
}

fn parse_duration(text: &str) -> Option<Duration> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let n: u64 = text[..text.len() - 1].parse().ok()?;
    Some(Duration::from_secs(n.checked_mul(unit)?)).filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_per_state_and_refuse_what_they_cannot_read() {
        let parsed = parse_thresholds("registered=15m, broadcast_dte=2h").unwrap();
        assert_eq!(
            parsed,
            [(State::Registered, Duration::from_secs(900)), (State::BroadcastDte, Duration::from_secs(7200))]
        );
        for bad in ["registered", "shipped=1h", "registered=15", "registered=0m", "registered=xm"] {
            assert!(parse_thresholds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn configuration_comes_from_the_lookup_with_defaults() {
        let config = PortalConfig::from_lookup(|name| match name {
            "CONSOLE_BASE" => Some("/prod/console".into()),
            "DISPATCH_TARGET_HOURS" => Some("48".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.base, "/prod/console");
        assert_eq!(config.dispatch_target_hours, 48);
        assert_eq!(config.threshold(State::Registered), Some(Duration::from_secs(900)));
        assert!(PortalConfig::from_lookup(|n| (n == "CONSOLE_BASE").then(|| "console/".into())).is_err());
    }
}

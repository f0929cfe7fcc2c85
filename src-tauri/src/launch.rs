//! When this process started, for the start-up measurement: the window marks when its list
//! became usable, and the benchmark subtracts this (both wall-clock milliseconds), so the figure
//! covers the app's whole start — loading its libraries included — and nothing around it.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

static LAUNCHED_AT: OnceLock<i64> = OnceLock::new();

/// Notes the launch time; call first thing in `run`.
pub fn record() {
    LAUNCHED_AT.get_or_init(|| process_start().unwrap_or_else(now_ms));
}

/// When the process started (ms since the Unix epoch).
pub fn launched_at() -> i64 {
    *LAUNCHED_AT.get_or_init(|| process_start().unwrap_or_else(now_ms))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The kernel's own record of the process's start (Linux: `/proc/self/stat` field 22, in
/// USER_HZ ticks since boot, against `/proc/uptime`), to 10 ms. Elsewhere `None`: the time
/// `run` was entered stands in.
fn process_start() -> Option<i64> {
    #[cfg(target_os = "linux")]
    {
        /// `/proc` reports times in USER_HZ, which Linux fixes at 100 for user space.
        const USER_HZ: f64 = 100.0;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name: state is field 3, starttime field 22.
        let ticks: f64 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(19)?
            .parse()
            .ok()?;
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let age_ms = ((uptime - ticks / USER_HZ) * 1000.0).max(0.0);
        #[allow(clippy::cast_possible_truncation)] // milliseconds of a process's age
        Some(now_ms() - age_ms as i64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_started_before_now_and_not_long_ago() {
        let started = launched_at();
        let now = now_ms();
        assert!(
            started <= now + 20 && now - started < 10 * 60 * 1000,
            "the launch time is in the recent past: started {started}, now {now}"
        );
    }
}

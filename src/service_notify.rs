//! Telling the service manager the state of a long-running command (`tail`, `pipe`), through systemd's
//! notify protocol (`Type=notify`; any supervisor that sets `NOTIFY_SOCKET` speaks it): READY=1 once it
//! works, RELOADING=1 (with MONOTONIC_USEC=, which systemd 253 and later want) and READY=1 around a reload,
//! STOPPING=1, a one-line STATUS= for `systemctl status`, and WATCHDOG=1 keep-alives when `WatchdogSec=`
//! asks for them (`WATCHDOG_USEC`, for this process per `WATCHDOG_PID`).
//!
//! Without `NOTIFY_SOCKET` nothing is sent and nothing costs anything. A message that cannot be sent is
//! said once (a warning) and never stops the command.
//!
//! Keep-alives are sent by the loop that does the work, between its steps, never by a thread of their own:
//! a loop stuck on a lock, a hung file system or a bug stops them, and systemd kills and restarts the
//! service. The loop must wake at least every [`Notifier::keep_alive_within`].
//!
//! STATUS= lines name counts, times and stream names, never anything read from the input.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// The notify socket's state for this process.
#[derive(Debug)]
pub struct Notifier {
    enabled: bool,
    /// The watchdog's timeout, when one is set for this process.
    watchdog: Option<Duration>,
    last_keep_alive: Option<Instant>,
    /// The STATUS= last sent.
    status: String,
    warned: bool,
}

impl Notifier {
    /// From the environment systemd gives a service: `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`.
    pub fn from_env() -> Notifier {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty());
        let watchdog = if enabled {
            sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
        } else {
            None
        };
        if let Some(d) = watchdog {
            tracing::debug!(timeout = ?d, "watchdog: keep-alives every quarter of the timeout");
        }
        Notifier {
            enabled,
            watchdog,
            last_keep_alive: None,
            status: String::new(),
            warned: false,
        }
    }

    /// Nothing is sent (no `NOTIFY_SOCKET`).
    pub fn disabled() -> Notifier {
        Notifier {
            enabled: false,
            watchdog: None,
            last_keep_alive: None,
            status: String::new(),
            warned: false,
        }
    }

    /// Whether there is a service manager to tell.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Started (or reloaded): READY=1, with the status.
    pub fn ready(&mut self, status: String) {
        self.status = status;
        let status = self.status.clone();
        self.send(&[NotifyState::Ready, NotifyState::Status(&status)]);
        self.last_keep_alive = Some(Instant::now());
    }

    /// A reload begins (READY=1 follows when it is done, whether it worked or not).
    pub fn reloading(&mut self) {
        if !self.enabled {
            return;
        }
        let mut states = vec![
            NotifyState::Reloading,
            NotifyState::Status("reloading: finishing the open segments, reading the config again"),
        ];
        match NotifyState::monotonic_usec_now() {
            Ok(now) => states.insert(1, now),
            Err(e) => tracing::warn!(error = %e, "cannot read the monotonic clock for RELOADING=1"),
        }
        self.send(&states);
    }

    /// Stopping: finishing what is open, then exiting.
    pub fn stopping(&mut self) {
        self.send(&[
            NotifyState::Stopping,
            NotifyState::Status("stopping: finishing the open segments"),
        ]);
    }

    /// Sends STATUS= when it changed.
    pub fn status(&mut self, status: String) {
        if self.enabled && status != self.status {
            self.status = status;
            let status = self.status.clone();
            self.send(&[NotifyState::Status(&status)]);
        }
    }

    /// WATCHDOG=1, when a quarter of the watchdog's timeout passed since the last one. Call it from the
    /// loop that does the work, at every turn.
    pub fn keep_alive(&mut self) {
        let Some(timeout) = self.watchdog else {
            return;
        };
        if self
            .last_keep_alive
            .is_some_and(|t| t.elapsed() < timeout / 4)
        {
            return;
        }
        self.last_keep_alive = Some(Instant::now());
        self.send(&[NotifyState::Watchdog]);
    }

    /// The longest the loop may wait before its next [`Notifier::keep_alive`] (None: no watchdog).
    pub fn keep_alive_within(&self) -> Option<Duration> {
        self.watchdog.map(|t| t / 4)
    }

    fn send(&mut self, states: &[NotifyState<'_>]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            if !self.warned {
                self.warned = true;
                tracing::warn!(error = %e, "cannot notify the service manager (NOTIFY_SOCKET); going on without");
            } else {
                tracing::debug!(error = %e, "cannot notify the service manager");
            }
        }
    }
}

/// "none yet" or the time of the last seal (UTC, to the second) and its stream, for STATUS= lines.
pub fn last_seal_text(last: Option<&(jiff::Timestamp, String)>) -> String {
    match last {
        None => "last seal: none yet".to_owned(),
        Some((t, stream)) => format!("last seal: {} ({stream})", t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_socket_nothing_is_sent_and_no_watchdog_applies() {
        let mut n = Notifier::disabled();
        n.ready("x".into());
        n.keep_alive();
        assert!(!n.enabled());
        assert_eq!(n.keep_alive_within(), None);
    }

    #[test]
    fn keep_alives_are_spaced_by_a_quarter_of_the_timeout() {
        // Not from the environment (tests run in threads), and with nothing to send to: the spacing only.
        let mut n = Notifier {
            watchdog: Some(Duration::from_secs(3600)),
            ..Notifier::disabled()
        };
        assert_eq!(n.keep_alive_within(), Some(Duration::from_secs(900)));
        n.keep_alive();
        let first = n
            .last_keep_alive
            .expect("the first keep-alive is due at once");
        n.keep_alive();
        assert_eq!(n.last_keep_alive, Some(first), "the next one waits");
        n.last_keep_alive = Some(first - Duration::from_secs(901));
        n.keep_alive();
        assert!(n.last_keep_alive.unwrap() > first, "due after a quarter");
    }

    #[test]
    fn the_last_seal_is_shown_to_the_second_with_its_stream() {
        assert_eq!(last_seal_text(None), "last seal: none yet");
        let t: jiff::Timestamp = "2026-03-01T10:00:05.123Z".parse().unwrap();
        assert_eq!(
            last_seal_text(Some(&(t, "app.log".into()))),
            "last seal: 2026-03-01T10:00:05Z (app.log)"
        );
    }
}

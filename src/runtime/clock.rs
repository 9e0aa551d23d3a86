//! Where the runtime gets the time: the system clock in servers, a virtual
//! clock in `bpmn run` and tests (moved with `advance`).

use std::sync::Mutex;

use jiff::Timestamp;

/// A source of "now".
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
    /// Whether this is the real time (and so comparable with the database's clock).
    fn is_real(&self) -> bool {
        false
    }
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn is_real(&self) -> bool {
        true
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<Timestamp>,
}

impl VirtualClock {
    pub fn new(start: Timestamp) -> VirtualClock {
        VirtualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `t` (never backwards).
    pub fn set(&self, t: Timestamp) {
        if let Ok(mut now) = self.now.lock()
            && t > *now
        {
            *now = t;
        }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        self.now.lock().map(|t| *t).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

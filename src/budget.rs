//! Stopping long work from outside, without a clock.
//!
//! The runtime computes each command on a thread of its own and raises that
//! thread's stop flag when the command's time budget is spent. Script and
//! expression evaluators look at the flag as they go and stop with an error,
//! which becomes an incident like any failed script. Pure code stays pure: it
//! never reads the time, only the flag it was handed.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static STOP: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Why work stopped when its flag was raised.
pub const STOPPED: &str = "stopped: it ran longer than one command may take";

/// Runs `f` with `flag` as this thread's stop flag.
pub fn with_stop_flag<T>(flag: Arc<AtomicBool>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<AtomicBool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            STOP.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(STOP.with(|s| s.replace(Some(flag))));
    f()
}

/// Whether the work running on this thread should stop now.
pub fn stopped() -> bool {
    STOP.with(|s| {
        s.borrow()
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    })
}

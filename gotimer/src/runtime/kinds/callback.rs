//! `after_func`: a function run on a callback thread each time its schedule comes due (once per
//! schedule, so `Fn`, not `FnOnce`). Firing only queues it; the thread that runs it claims it first
//! (`runtime/callback.rs`), so a `stop` before then keeps it from running.

use crate::runtime::entry::{Delivery, Fired, Held};
use crate::runtime::time::Timeline;

pub(crate) struct Callback<F>(pub(crate) F);

impl<F: Fn() + Send + Sync + 'static> Delivery for Callback<F> {
    #[inline]
    fn fire(&self, _: &Held, _: u64, _: u64, _: &Timeline) -> Fired {
        Fired::Run
    }

    #[inline]
    fn uses_time(&self) -> bool {
        false
    }

    fn call(&self) {
        (self.0)()
    }
}

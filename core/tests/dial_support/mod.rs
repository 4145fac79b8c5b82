//! The dialling half of a hand-driven call on one fake connection
//! (transport `1` at 127.0.0.1:80), for tests whose loop matches only the
//! exchange: `o @ (Output::Resolve { .. } | Output::Connect { .. } |
//! Output::AwaitConnect { .. }) => match dial.answer(o) { .. }`.

use hawser_core::call::{ConnectId, Input, Output};

/// The connection attempt started and not yet reported.
#[derive(Default)]
pub struct Dialer(Option<ConnectId>);

impl Dialer {
    /// The answer to a dialling output: `None` for `Connect` (noted, to
    /// report at the next `AwaitConnect`; poll again).
    pub fn answer(&mut self, output: Output<'_, u32>) -> Option<Input<'static, u32>> {
        match output {
            Output::Resolve { .. } => Some(Input::Resolved(vec![([127, 0, 0, 1], 80).into()])),
            Output::Connect { id, .. } => {
                self.0 = Some(id);
                None
            }
            Output::AwaitConnect { .. } => Some(Input::Connected {
                id: self.0.take().expect("an attempt was started"),
                conn: 1,
            }),
            other => panic!("not a dialling output: {other:?}"),
        }
    }
}

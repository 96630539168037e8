//! The timeline events this console's worker wrote itself. An edit is
//! based on the view the key was pressed in; a second edit sent before the
//! first one's reload reached the view (Space twice on an item, `>` twice)
//! is based on the version before the first, and the store would refuse it
//! as a conflict with this very console. The worker knows which events it
//! wrote, so such a refusal is sent again after its own change instead:
//! keys take effect in the order they were pressed.

use std::collections::{HashMap, VecDeque};

use crate::domain::IncidentId;
use crate::domain::version::{Conflict, Version};
use crate::tui::effect::Effect;

/// Writes remembered per incident; older ones are long reloaded.
const KEPT: usize = 16;

#[derive(Debug, Default)]
pub struct OwnWrites {
    /// Per incident: the versions before and after each of this console's
    /// writes (the events in between are its own).
    spans: HashMap<String, VecDeque<(Version, Version)>>,
}

/// The incident an edit changes, for the edits that can conflict.
pub fn target(effect: &Effect) -> Option<&IncidentId> {
    match effect {
        Effect::Update(id, _)
        | Effect::SetItem { id, .. }
        | Effect::Assign { id, .. }
        | Effect::SetDetected { id, .. } => Some(id),
        _ => None,
    }
}

impl OwnWrites {
    /// This console wrote the events of `id` after `before` up to `after`.
    pub fn record(&mut self, id: &IncidentId, before: Version, after: Version) {
        let spans = self.spans.entry(id.to_string()).or_default();
        spans.push_back((before, after));
        while spans.len() > KEPT {
            spans.pop_front();
        }
    }

    /// Whether the change `c` met is one this console (acting as `actor`)
    /// made itself.
    pub fn wrote(&self, c: &Conflict, actor: &str) -> bool {
        c.theirs.actor == actor
            && self.spans.get(&c.incident).is_some_and(|spans| {
                spans
                    .iter()
                    .any(|(before, after)| before.0 < c.theirs.seq && c.theirs.seq <= after.0)
            })
    }
}

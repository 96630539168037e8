//! The one keymap. The same table drives key handling (`action::resolve`)
//! and the `?` help overlay ([`help_for`]), so the help can never list a
//! key that does nothing, nor miss one that does something.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use crate::tui::command::{Command, Context};

/// One key, as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}

const fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

impl Key {
    fn matches(&self, ev: &KeyEvent) -> bool {
        if self.code != ev.code {
            return false;
        }
        // Shift is part of the character for letters and symbols.
        let relevant = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self.code {
            KeyCode::Char(_) => relevant == self.mods,
            _ => (ev.modifiers & !KeyModifiers::SHIFT) == self.mods,
        }
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

pub struct Binding {
    pub context: Context,
    pub keys: &'static [Key],
    pub command: Command,
    pub help: &'static str,
}

const fn bind(
    context: Context,
    keys: &'static [Key],
    command: Command,
    help: &'static str,
) -> Binding {
    Binding {
        context,
        keys,
        command,
        help,
    }
}

use Command as C;
use Context as X;

/// THE keymap, one binding a line. Earlier entries win when a key is
/// bound twice in reach.
#[rustfmt::skip]
pub static KEYMAP: &[Binding] = &[
    bind(X::Always, &[ctrl('c')], C::Quit, "quit (asks if a form is unsaved)"),
    // Board
    bind(X::Board, &[code(KeyCode::Enter)], C::Open, "open the selected incident"),
    bind(X::Board, &[k('/')], C::Filter, "filter by text (id, title, commander)"),
    bind(X::Board, &[k('o')], C::CycleSort, "sort by urgency / severity / newest / status"),
    bind(X::Board, &[k('f')], C::CycleSeverityFilter, "filter by severity (P1..P4, all)"),
    bind(X::Board, &[k('F')], C::CycleStatusFilter, "filter by status"),
    bind(X::Board, &[k('c')], C::ToggleClosed, "show or hide closed incidents"),
    bind(X::Board, &[code(KeyCode::Esc)], C::Back, "clear the filter"),
    bind(X::Board, &[k('A')], C::Acknowledge, "acknowledge the selected incident (someone has taken charge)"),
    bind(X::Board, &[k('M')], C::OpenMetrics, "metrics (counts, response times, SLA compliance)"),
    bind(X::Board, &[k('P')], C::OpenRoster, "people: the roster (add, edit, on call)"),
    bind(X::FilterInput, &[code(KeyCode::Enter)], C::Submit, "keep the filter"),
    bind(X::FilterInput, &[code(KeyCode::Esc)], C::Cancel, "clear the filter"),
    // Navigation (board and incident)
    bind(X::Navigation, &[k('q')], C::Quit, "quit (asks if a draft is unsaved)"),
    bind(X::Navigation, &[k('?')], C::Help, "this help"),
    bind(X::Navigation, &[k('n')], C::NewIncident, "declare a new incident"),
    bind(X::Navigation, &[k('k'), code(KeyCode::Up)], C::Up, "move up"),
    bind(X::Navigation, &[k('j'), code(KeyCode::Down)], C::Down, "move down"),
    bind(X::Navigation, &[k('g'), code(KeyCode::Home)], C::Top, "go to the top"),
    bind(X::Navigation, &[k('G'), code(KeyCode::End)], C::Bottom, "go to the bottom"),
    bind(X::Navigation, &[k('w')], C::OpenWatcher, "rule watcher: files, hits per rule, latest matches"),
    bind(X::Navigation, &[k('!')], C::OpenAlerts, "alerts: every alert raised, acknowledged or not"),
    bind(X::Navigation, &[code(KeyCode::PageUp)], C::PageUp, "page up"),
    bind(X::Navigation, &[code(KeyCode::PageDown)], C::PageDown, "page down"),
    // Incident view
    bind(X::Incident, &[code(KeyCode::Esc)], C::Back, "back to the board"),
    bind(X::Incident, &[code(KeyCode::Tab)], C::NextPane, "next pane"),
    bind(X::Incident, &[code(KeyCode::BackTab)], C::PrevPane, "previous pane"),
    bind(X::Incident, &[k('s')], C::SetSeverity, "set severity"),
    bind(X::Incident, &[k('u')], C::SetStatus, "set status"),
    bind(X::Incident, &[k('t')], C::EditTitle, "edit the title"),
    bind(X::Incident, &[k('E')], C::EditSummary, "edit the summary"),
    bind(X::Incident, &[k('>')], C::AdvancePhase, "advance to the next phase"),
    bind(X::Incident, &[k('<')], C::StepBackPhase, "step back a phase"),
    bind(X::Incident, &[k('a')], C::Assign, "assign or hand off a role"),
    bind(X::Incident, &[k('A')], C::Acknowledge, "acknowledge (someone has taken charge)"),
    bind(X::Incident, &[k('D')], C::SetDetected, "correct the detection time (asks why; recorded)"),
    bind(X::Incident, &[k('m')], C::AddNote, "add a note to the timeline"),
    bind(X::Incident, &[k('e')], C::OpenEvidence, "evidence and chain of custody"),
    bind(X::Incident, &[k('r')], C::OpenReview, "post-incident review (5 whys, actions)"),
    bind(X::Incident, &[k('R')], C::WriteReport, "write the report to a file (md, html, json)"),
    bind(X::Incident, &[k('c')], C::Compose, "write a message to customers, staff or a regulator"),
    bind(X::Incident, &[k('S')], C::OpenMessages, "messages sent and their delivery per sink (retry)"),
    bind(X::Incident, &[k('P')], C::OpenRoster, "people: the roster (add, edit, on call)"),
    bind(X::Incident, &[k('i')], C::EditImpact, "impact: affected, C/I/A, customers, personal data"),
    bind(X::Incident, &[k('C')], C::EditCustomerSummary, "what customers are told (not the internal summary)"),
    bind(X::Checklist, &[k(' ')], C::ToggleItem, "toggle the item done / open"),
    bind(X::Checklist, &[k('x')], C::MarkNotApplicable, "mark not applicable (asks why)"),
    bind(X::Roles, &[code(KeyCode::Enter)], C::Assign, "assign the selected role"),
    // New incident form
    bind(X::Form, &[code(KeyCode::Tab), code(KeyCode::Down)], C::NextField, "next field"),
    bind(X::Form, &[code(KeyCode::BackTab), code(KeyCode::Up)], C::PrevField, "previous field"),
    bind(X::Form, &[code(KeyCode::Right)], C::ChoiceNext, "next choice (severity, source)"),
    bind(X::Form, &[code(KeyCode::Left)], C::ChoicePrev, "previous choice (severity, source)"),
    bind(X::Form, &[code(KeyCode::Enter)], C::Submit, "declare the incident"),
    bind(X::Form, &[code(KeyCode::Esc)], C::Cancel, "close (the form is kept as a draft)"),
    // Pickers (severity, status)
    bind(X::Picker, &[k('k'), code(KeyCode::Up)], C::Up, "previous choice"),
    bind(X::Picker, &[k('j'), code(KeyCode::Down)], C::Down, "next choice"),
    bind(X::Picker, &[code(KeyCode::Enter)], C::Submit, "apply"),
    bind(X::Picker, &[code(KeyCode::Esc), k('q')], C::Cancel, "cancel"),
    // Text dialogs (title, summary, note, reason)
    bind(X::TextDialog, &[code(KeyCode::Enter)], C::Submit, "save"),
    bind(X::TextDialog, &[code(KeyCode::Esc)], C::Cancel, "close (kept as a draft)"),
    // Assign dialog
    bind(X::AssignDialog, &[code(KeyCode::Up)], C::Up, "previous person on the roster"),
    bind(X::AssignDialog, &[code(KeyCode::Down)], C::Down, "next person on the roster"),
    bind(X::AssignDialog, &[code(KeyCode::Tab)], C::ChoiceNext, "next role"),
    bind(X::AssignDialog, &[code(KeyCode::BackTab)], C::ChoicePrev, "previous role"),
    bind(X::AssignDialog, &[code(KeyCode::Enter)], C::Submit, "assign (selected person, or the typed name)"),
    bind(X::AssignDialog, &[code(KeyCode::Esc)], C::Cancel, "cancel"),
    bind(X::AssignAsk, &[k('y')], C::ConfirmYes, "add to the roster (no contact yet) and assign"),
    bind(X::AssignAsk, &[k('n')], C::ConfirmNo, "assign without adding to the roster"),
    bind(X::AssignAsk, &[code(KeyCode::Esc)], C::Cancel, "back to the name"),
    // Evidence view
    bind(X::Evidence, &[code(KeyCode::Esc)], C::Back, "back to the incident"),
    bind(X::Evidence, &[k('a')], C::AddEvidence, "add a note, log excerpt or file"),
    bind(X::Evidence, &[k('v')], C::VerifyEvidence, "verify every item (re-hash; recorded)"),
    bind(X::Evidence, &[k('t')], C::TransferEvidence, "transfer the selected item (to, purpose)"),
    bind(X::Evidence, &[k('h')], C::LegalHold, "set or lift the legal hold (asks why)"),
    bind(X::Evidence, &[k('x')], C::ExportEvidence, "export a bundle to a directory or .tar"),
    bind(X::Evidence, &[code(KeyCode::Tab), code(KeyCode::BackTab)], C::NextPane, "move in the items / in the selected item's chain of custody"),
    // Review view
    bind(X::Review, &[code(KeyCode::Esc)], C::Back, "back to the incident"),
    bind(X::Review, &[code(KeyCode::Enter)], C::Edit, "edit the selected field"),
    bind(X::Review, &[k('a')], C::AddAction, "add a corrective action"),
    bind(X::Review, &[k('d')], C::ActionDone, "mark the selected action done"),
    bind(X::Review, &[k('x')], C::ActionDrop, "drop the selected action (asks why)"),
    bind(X::Review, &[k('o')], C::ActionReopen, "reopen the selected action"),
    bind(X::Review, &[code(KeyCode::Tab), code(KeyCode::BackTab)], C::NextPane, "move in the list / scroll the selected text"),
    // Messages sent
    bind(X::Messages, &[code(KeyCode::Esc)], C::Back, "back to the incident"),
    bind(X::Messages, &[k('r')], C::Retry, "retry every delivery not delivered (as notify retry)"),
    bind(X::Messages, &[k(' ')], C::TextDown, "more text (pages down through the selected message)"),
    bind(X::Messages, &[k('b')], C::TextUp, "back up (pages up through the text)"),
    bind(X::Messages, &[code(KeyCode::Enter)], C::ToggleReading, "read whole (the message over the list; Enter again: the list)"),
    // Metrics view
    bind(X::Metrics, &[code(KeyCode::Esc)], C::Back, "back to the board"),
    bind(X::Metrics, &[k('d')], C::ToggleDrills, "include or exclude drills"),
    bind(X::Metrics, &[k('p')], C::NextPeriod, "next period: all time, last 7 / 30 / 90 days, this quarter"),
    bind(X::Metrics, &[k('P')], C::PrevPeriod, "previous period"),
    bind(X::Metrics, &[k('?')], C::Help, "this help"),
    bind(X::Metrics, &[k('q')], C::Quit, "quit"),
    // Dialogs of fields (evidence, review, report, closing gate)
    bind(X::Fields, &[code(KeyCode::Tab), code(KeyCode::Down)], C::NextField, "next field"),
    bind(X::Fields, &[code(KeyCode::BackTab), code(KeyCode::Up)], C::PrevField, "previous field"),
    bind(X::Fields, &[code(KeyCode::Right)], C::ChoiceNext, "next choice (in text: cursor right)"),
    bind(X::Fields, &[code(KeyCode::Left)], C::ChoicePrev, "previous choice (in text: cursor left)"),
    bind(X::Fields, &[code(KeyCode::Enter)], C::Submit, "save"),
    bind(X::Fields, &[code(KeyCode::Esc)], C::Cancel, "close (long texts are kept as a draft)"),
    // A text of several lines in a dialog (Enter is a newline there)
    bind(X::Lines, &[ctrl('s')], C::Submit, "save"),
    bind(X::Lines, &[code(KeyCode::Tab)], C::NextField, "next field"),
    bind(X::Lines, &[code(KeyCode::BackTab)], C::PrevField, "previous field"),
    bind(X::Lines, &[ctrl('z'), ctrl('u')], C::Undo, "undo"),
    bind(X::Lines, &[ctrl('y'), ctrl('r')], C::Redo, "redo"),
    bind(X::Lines, &[code(KeyCode::Esc)], C::Cancel, "close (kept as a draft)"),
    // Questions
    bind(X::Confirm, &[k('y')], C::ConfirmYes, "yes"),
    bind(X::Confirm, &[k('n'), code(KeyCode::Esc)], C::ConfirmNo, "no"),
    bind(X::Confirm, &[k('d')], C::ConfirmDiscard, "discard the draft and quit"),
    // Composer: picker
    bind(X::ComposePick, &[k('k'), code(KeyCode::Up)], C::Up, "previous template"),
    bind(X::ComposePick, &[k('j'), code(KeyCode::Down)], C::Down, "next template"),
    bind(X::ComposePick, &[code(KeyCode::Right), k('l')], C::ChoiceNext, "next audience"),
    bind(X::ComposePick, &[code(KeyCode::Left), k('h')], C::ChoicePrev, "previous audience"),
    bind(X::ComposePick, &[code(KeyCode::Enter)], C::Submit, "write (continues the saved draft to the audience, if any)"),
    bind(X::ComposePick, &[k('d')], C::DiscardDraft, "discard the saved draft to the audience"),
    bind(X::ComposePick, &[code(KeyCode::Esc), k('q')], C::Back, "back to the incident"),
    bind(X::ComposePick, &[k('?')], C::Help, "this help"),
    // Composer: editor, preview and diff
    bind(X::Compose, &[ctrl('s')], C::Send, "send (asks first, showing the audience and sinks)"),
    bind(X::Compose, &[code(KeyCode::Tab)], C::NextView, "next view: edit, preview, diff with the last sent"),
    bind(X::Compose, &[code(KeyCode::BackTab)], C::PrevView, "previous view"),
    bind(X::Compose, &[code(KeyCode::Esc)], C::Back, "back (to the editor, then the incident; draft kept)"),
    bind(X::Compose, &[code(KeyCode::F(1))], C::Help, "this help"),
    bind(X::Compose, &[ctrl('n')], C::NextPlaceholder, "next [FILL IN: ...] to complete, in the editor (goes round)"),
    bind(X::Compose, &[ctrl('p')], C::PrevPlaceholder, "previous [FILL IN: ...] to complete"),
    bind(X::ComposeEdit, &[ctrl('z'), ctrl('u')], C::Undo, "undo"),
    bind(X::ComposeEdit, &[ctrl('y'), ctrl('r')], C::Redo, "redo"),
    bind(X::ComposeView, &[k('k'), code(KeyCode::Up)], C::Up, "scroll up"),
    bind(X::ComposeView, &[k('j'), code(KeyCode::Down)], C::Down, "scroll down"),
    bind(X::ComposeView, &[code(KeyCode::PageUp)], C::PageUp, "page up"),
    bind(X::ComposeView, &[code(KeyCode::PageDown)], C::PageDown, "page down"),
    bind(X::ComposeView, &[k('g'), code(KeyCode::Home)], C::Top, "to the top"),
    bind(X::ComposeView, &[k('?')], C::Help, "this help"),
    // Composer: confirm and result
    bind(X::ComposeConfirm, &[k('k'), code(KeyCode::Up)], C::Up, "previous sink"),
    bind(X::ComposeConfirm, &[k('j'), code(KeyCode::Down)], C::Down, "next sink"),
    bind(X::ComposeConfirm, &[k(' ')], C::ToggleItem, "use or skip the sink"),
    bind(X::ComposeConfirm, &[code(KeyCode::Enter), k('y')], C::Submit, "send now"),
    bind(X::ComposeConfirm, &[code(KeyCode::Esc), k('n')], C::Cancel, "back to the editor"),
    bind(X::ComposeSent, &[k('r')], C::Retry, "retry the deliveries that failed"),
    bind(X::ComposeSent, &[code(KeyCode::Esc), code(KeyCode::Enter)], C::Back, "close (a failed delivery stays ready to retry)"),
    // Rule watcher
    bind(X::Watcher, &[code(KeyCode::Esc)], C::Back, "back to the board"),
    // Alert list
    bind(X::Alerts, &[code(KeyCode::Enter)], C::Open, "open the alert's incident"),
    bind(X::Alerts, &[code(KeyCode::Esc)], C::Back, "back to where it was opened"),
    // Roster
    bind(X::Roster, &[code(KeyCode::Esc)], C::Back, "back to where it was opened"),
    bind(X::Roster, &[k('a')], C::AddPerson, "add someone (handle, name, contact, roles, on call)"),
    bind(X::Roster, &[k('e'), code(KeyCode::Enter)], C::Edit, "edit the selected person"),
    bind(X::Roster, &[k('o')], C::ToggleOnCall, "put the selected person on or off call"),
    // Conflict: an edit met another made meanwhile
    bind(X::Conflict, &[k('k')], C::KeepMine, "keep mine (sent again, over theirs)"),
    bind(X::Conflict, &[k('t'), code(KeyCode::Esc)], C::TakeTheirs, "take theirs (Esc too: my edit is dropped)"),
    bind(X::Conflict, &[k('m')], C::MergeByHand, "merge by hand (texts: edit mine, theirs shown)"),
    bind(X::ConflictPick, &[k('k')], C::KeepMine, "keep mine (sent again, over theirs)"),
    bind(X::ConflictPick, &[k('t'), code(KeyCode::Esc)], C::TakeTheirs, "take theirs (Esc too: my edit is dropped)"),
    bind(X::ConflictHandover, &[k('k')], C::KeepMine, "yes, hand it over anyway"),
    bind(X::ConflictHandover, &[k('t'), code(KeyCode::Esc)], C::TakeTheirs, "no, leave it with the new holder"),
    bind(X::ConflictMerge, &[code(KeyCode::Enter)], C::Submit, "save the merged text (over theirs)"),
    bind(X::ConflictMerge, &[code(KeyCode::Esc)], C::Cancel, "back to keep / take / merge"),
    bind(X::ConflictMergeLines, &[ctrl('s')], C::Submit, "save the merged text (over theirs)"),
    bind(X::ConflictMergeLines, &[ctrl('z'), ctrl('u')], C::Undo, "undo"),
    bind(X::ConflictMergeLines, &[ctrl('y'), ctrl('r')], C::Redo, "redo"),
    bind(X::ConflictMergeLines, &[code(KeyCode::Esc)], C::Cancel, "back to keep / take / merge"),
    // Help
    bind(X::Help, &[code(KeyCode::Esc), k('?'), k('q')], C::Back, "close help"),
    bind(X::Help, &[k('k'), code(KeyCode::Up)], C::Up, "scroll up"),
    bind(X::Help, &[k('j'), code(KeyCode::Down)], C::Down, "scroll down"),
];

/// The contexts consulted, innermost first, when `focus` has the focus.
pub fn chain(focus: Context) -> Vec<Context> {
    let mut out = vec![focus];
    match focus {
        X::Board => out.push(X::Navigation),
        X::Checklist | X::Roles | X::Timeline => out.extend([X::Incident, X::Navigation]),
        X::Incident | X::Evidence | X::Review | X::Messages | X::Watcher | X::Alerts => {
            out.push(X::Navigation)
        }
        X::Roster => out.push(X::Navigation),
        X::ComposeEdit | X::ComposeView => out.push(X::Compose),
        _ => {}
    }
    out.push(X::Always);
    out
}

/// Help sections for `focus`: (section title, [(keys, what they do)]).
pub fn help_for(focus: Context) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    chain(focus)
        .into_iter()
        .map(|ctx| {
            let mut rows: Vec<(String, &'static str)> = KEYMAP
                .iter()
                .filter(|b| b.context == ctx)
                .map(|b| {
                    let keys: Vec<String> = b.keys.iter().map(Key::label).collect();
                    (keys.join("/"), b.help)
                })
                .collect();
            rows.extend(ctx.notes().iter().map(|(k, h)| (k.to_string(), *h)));
            (ctx.title(), rows)
        })
        .collect()
}

/// Short hints for the footer: the first few bindings of the focus.
pub fn hints(focus: Context, max: usize) -> Vec<(String, &'static str)> {
    chain(focus)
        .into_iter()
        .flat_map(|ctx| KEYMAP.iter().filter(move |b| b.context == ctx))
        .filter(|b| b.context != X::Always)
        .take(max)
        .map(|b| {
            let key = b.keys.first().map(Key::label).unwrap_or_default();
            let short = b.help.split(" (").next().unwrap_or(b.help);
            (key, short)
        })
        .collect()
}

/// The command a key means where `focus` has the focus, if any.
pub fn lookup(focus: Context, key: &KeyEvent) -> Option<Command> {
    chain(focus).into_iter().find_map(|ctx| {
        KEYMAP
            .iter()
            .find(|b| b.context == ctx && b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.command)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn letters_are_commands_on_the_board_but_text_in_forms() {
        assert_eq!(
            lookup(Context::Board, &key('n')),
            Some(Command::NewIncident)
        );
        assert!(Context::Form.takes_text());
        assert_eq!(lookup(Context::Form, &key('n')), None);
        assert_eq!(lookup(Context::Form, &key('q')), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Context::Form, &ctrl_c), Some(Command::Quit));
        assert_eq!(
            lookup(Context::Checklist, &key(' ')),
            Some(Command::ToggleItem)
        );
        assert_eq!(lookup(Context::Board, &key(' ')), None);
        assert!(!Context::Board.takes_text());
    }

    #[test]
    fn no_key_is_bound_twice_in_one_chain() {
        for focus in [
            X::Board,
            X::FilterInput,
            X::Checklist,
            X::Roles,
            X::Timeline,
            X::Form,
            X::Picker,
            X::TextDialog,
            X::AssignDialog,
            X::AssignAsk,
            X::Confirm,
            X::Help,
            X::Evidence,
            X::Review,
            X::Metrics,
            X::Messages,
            X::Fields,
            X::Lines,
            X::ComposePick,
            X::ComposeEdit,
            X::ComposeView,
            X::ComposeConfirm,
            X::ComposeSent,
            X::Watcher,
            X::Alerts,
            X::Roster,
            X::Conflict,
            X::ConflictPick,
            X::ConflictHandover,
            X::ConflictMerge,
            X::ConflictMergeLines,
        ] {
            let mut seen: Vec<Key> = Vec::new();
            for ctx in chain(focus) {
                for b in KEYMAP.iter().filter(|b| b.context == ctx) {
                    for key in b.keys {
                        // An inner binding may shadow an outer one on purpose
                        // (Esc), but never within one context.
                        let dup = KEYMAP
                            .iter()
                            .filter(|o| o.context == ctx && o.keys.contains(key))
                            .count();
                        assert_eq!(dup, 1, "{key:?} bound twice in {ctx:?}");
                        seen.push(*key);
                    }
                }
            }
        }
    }

    #[test]
    fn in_a_text_of_several_lines_enter_types_and_ctrl_s_saves() {
        let enter = KeyEvent::from(KeyCode::Enter);
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert!(Context::Lines.takes_text());
        assert_eq!(lookup(Context::Lines, &enter), None, "Enter is a newline");
        assert_eq!(lookup(Context::Lines, &ctrl_s), Some(Command::Submit));
        assert_eq!(lookup(Context::Fields, &enter), Some(Command::Submit));
        let esc = KeyEvent::from(KeyCode::Esc);
        assert_eq!(lookup(Context::Lines, &esc), Some(Command::Cancel));
        assert_eq!(lookup(Context::Lines, &key('q')), None);
    }

    #[test]
    fn help_lists_every_binding_of_the_focus() {
        let help = help_for(Context::Checklist);
        let all: Vec<&str> = help
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|r| r.1))
            .collect();
        assert!(all.contains(&"toggle the item done / open"));
        assert!(all.contains(&"set severity"));
        assert!(all.contains(&"declare a new incident"));
    }
}

//! What a key can mean ([`Command`]) and where the focus is ([`Context`]):
//! the words screens handle and the keymap binds, kept apart from the table
//! so a screen needs no part of the shell to name a command.

/// What a key can mean. Named for what happens, not for the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    NewIncident,
    Open,
    Back,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Filter,
    CycleSort,
    CycleSeverityFilter,
    CycleStatusFilter,
    ToggleClosed,
    NextPane,
    PrevPane,
    ToggleItem,
    MarkNotApplicable,
    AdvancePhase,
    StepBackPhase,
    Assign,
    /// Record that someone has taken charge (meets the response clock).
    Acknowledge,
    /// Correct when the incident was detected (asks why; recorded).
    SetDetected,
    SetSeverity,
    SetStatus,
    EditTitle,
    EditSummary,
    /// Affected services, C/I/A impact, customer impact, personal data.
    EditImpact,
    /// What customers are told (the customer-facing summary).
    EditCustomerSummary,
    AddNote,
    // Evidence, review, report, metrics:
    OpenEvidence,
    OpenReview,
    WriteReport,
    OpenMetrics,
    AddEvidence,
    VerifyEvidence,
    TransferEvidence,
    LegalHold,
    ExportEvidence,
    Edit,
    AddAction,
    ActionDone,
    ActionDrop,
    ActionReopen,
    ToggleDrills,
    /// The metrics' period: all time, last 7/30/90 days, this quarter.
    NextPeriod,
    PrevPeriod,
    /// Open the message composer.
    Compose,
    /// The incident's sent messages and their deliveries.
    OpenMessages,
    /// Page through a long text below a list (the message sent).
    TextDown,
    TextUp,
    /// Read the selected message whole, over the list (and back).
    ToggleReading,
    // In the composer:
    NextView,
    PrevView,
    Undo,
    Redo,
    /// The next or previous `[FILL IN: ...]` still to complete.
    NextPlaceholder,
    PrevPlaceholder,
    Send,
    Retry,
    DiscardDraft,
    OpenWatcher,
    /// The alert list: every alert this console has seen.
    OpenAlerts,
    /// The roster: the people roles can be handed to.
    OpenRoster,
    AddPerson,
    /// Put the selected person on or off call.
    ToggleOnCall,
    // In forms and dialogs:
    NextField,
    PrevField,
    ChoiceNext,
    ChoicePrev,
    Submit,
    Cancel,
    ConfirmYes,
    ConfirmNo,
    ConfirmDiscard,
    // In the conflict dialog (an edit met another made meanwhile):
    /// Send my edit again, over theirs.
    KeepMine,
    /// Drop my edit; theirs stands.
    TakeTheirs,
    /// Edit my text with theirs shown, then send it over theirs.
    MergeByHand,
}

/// Where keys are looked up: the innermost thing that has focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Works everywhere, even in text fields.
    Always,
    /// Board, incident, evidence and review screens (not while typing).
    Navigation,
    Board,
    FilterInput,
    Incident,
    Checklist,
    Roles,
    Timeline,
    Form,
    Picker,
    TextDialog,
    AssignDialog,
    /// "Not on the roster: add NAME?" in the assign dialog.
    AssignAsk,
    Confirm,
    Help,
    Evidence,
    Review,
    Metrics,
    /// An incident's sent messages and their deliveries.
    Messages,
    /// A dialog of fields (evidence, review, report, closing gate).
    Fields,
    /// A text of several lines in a dialog (summary, reason, review text):
    /// Enter is a newline, so saving is Ctrl-S.
    Lines,
    /// The composer's template and audience picker.
    ComposePick,
    /// Keys shared by the composer's editor and its preview and diff.
    Compose,
    /// The composer's editor (typing).
    ComposeEdit,
    /// The composer's preview and diff.
    ComposeView,
    /// "Send to ... via ...?"
    ComposeConfirm,
    /// Sending, then how each delivery went.
    ComposeSent,
    Watcher,
    /// The alert list.
    Alerts,
    /// The roster.
    Roster,
    /// A text edit met another made meanwhile: keep mine, take theirs, merge.
    Conflict,
    /// A one-value edit (severity, status, phase, checklist) met another:
    /// keep mine or take theirs.
    ConflictPick,
    /// A role handover over a holder changed meanwhile: hand it over anyway?
    ConflictHandover,
    /// Merging the two texts by hand (typing).
    ConflictMerge,
    /// Merging a text of several lines by hand (Enter is a new line).
    ConflictMergeLines,
}

impl Context {
    /// Contexts whose unbound printable keys are text, not commands.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Context::FilterInput
                | Context::Form
                | Context::TextDialog
                | Context::AssignDialog
                | Context::Fields
                | Context::Lines
                | Context::ComposeEdit
                | Context::ConflictMerge
                | Context::ConflictMergeLines
        )
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Always => "Everywhere",
            Context::Navigation => "Moving around (board, incident, evidence, review, messages)",
            Context::Board => "Board",
            Context::FilterInput => "Filter",
            Context::Incident => "Incident",
            Context::Checklist => "Checklist pane",
            Context::Roles => "Roles pane",
            Context::Timeline => "Timeline pane",
            Context::Form => "New incident form",
            Context::Picker => "Choice",
            Context::TextDialog => "Text edit",
            Context::AssignDialog => "Assign role",
            Context::AssignAsk => "Add to the roster?",
            Context::Confirm => "Question",
            Context::Help => "Help",
            Context::Watcher => "Rule watcher",
            Context::Alerts => "Alerts",
            Context::Roster => "Roster",
            Context::Evidence => "Evidence",
            Context::Review => "Review",
            Context::Metrics => "Metrics",
            Context::Messages => "Messages sent",
            Context::Fields => "Dialog",
            Context::Lines => "Text of several lines",
            Context::ComposePick => "Message: template and audience",
            Context::Compose => "Message",
            Context::ComposeEdit => "Message editor",
            Context::ComposeView => "Message preview and diff",
            Context::ComposeConfirm => "Send the message?",
            Context::ComposeSent => "Message sent",
            Context::Conflict | Context::ConflictPick => "Changed meanwhile by someone else",
            Context::ConflictHandover => "Role handed over meanwhile",
            Context::ConflictMerge => "Merging by hand",
            Context::ConflictMergeLines => "Merging a text of several lines by hand",
        }
    }

    /// What the help says about keys the keymap leaves to a text editor:
    /// (keys, what they do).
    pub fn notes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Context::ComposeEdit => &[
                ("typing", "inserts text; Enter starts a new line"),
                (
                    "↑/↓",
                    "up / down a line of the text (a wrapped line counts once)",
                ),
                ("Alt-↑/Alt-↓", "up / down a row as drawn on screen"),
                ("←/→", "move; Home/End, PgUp/PgDn too"),
                ("Backspace/Del", "delete a character"),
                (
                    "Ctrl-k/Ctrl-w",
                    "delete to the line's end / the word before (one undo brings it back)",
                ),
                ("(wrap)", "long lines wrap on screen at word boundaries"),
            ],
            Context::Lines | Context::ConflictMergeLines => &[
                ("typing", "inserts text; Enter starts a new line"),
                ("↑/↓", "up / down a line of the text"),
                ("←/→", "move; Home/End too"),
                ("Backspace/Del", "delete a character"),
                ("(paste)", "newlines are kept"),
                ("(wrap)", "long lines wrap; the box scrolls with the cursor"),
            ],
            _ => &[],
        }
    }
}

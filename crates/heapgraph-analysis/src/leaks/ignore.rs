//! Known leaks and noise, as data: patterns that take a leak or a growing
//! path out of a report when its trace matches.
//!
//! A pattern is a glob (`*` any run of characters, `?` one character) that
//! matches a class or an edge name anywhere in the trace, or
//! `CLASS#FIELD`, which matches one reference: an edge named like `FIELD`
//! out of an object whose class is like `CLASS`. The built-in list holds
//! the Android framework references that LeakCanary's Shark documents as
//! library leaks (leaks in Android itself or vendors' builds that an app
//! cannot fix; the facts, from its `AndroidReferenceMatchers`).

/// One step of a trace, as names: the holder's class, the reference's
/// name, the held object's class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// The class (or name) of the object holding the reference.
    pub source: String,
    /// The reference's name, numeric names as `[]`.
    pub edge: String,
    /// The class (or name) of the object held.
    pub target: String,
}

/// Android framework references Shark reports as library leaks.
pub const ANDROID_LIBRARY_LEAKS: &[&str] = &[
    "android.view.inputmethod.InputMethodManager#mNextServedView",
    "android.view.inputmethod.InputMethodManager#mServedView",
    "android.view.inputmethod.InputMethodManager#mServedInputConnection",
    "android.view.inputmethod.InputMethodManager#mCurRootView",
    "android.view.inputmethod.InputMethodManager#mImeInsetsConsumer",
    "android.view.textservice.SpellCheckerSession#mSpellCheckerSessionListener",
    "android.view.textservice.SpellCheckerSession$1#this$0",
    "android.media.session.MediaSessionLegacyHelper#mContext",
    "android.text.TextLine#sCached",
    "android.os.Message#obj",
    "android.os.Message#next",
    "android.os.Message#target",
    "android.accounts.AccountManager$AmsTask$Response#this$1",
    "android.view.ViewGroup$ViewLocationHolder#mRoot",
    "android.app.ActivityThread$ActivityClientRecord#nextIdle",
    "android.widget.Editor$SpanController#mEditor",
    "android.widget.Editor$Blink#this$0",
    "android.media.MediaScannerConnection#mContext",
    "android.os.UserManager#mContext",
    "android.appwidget.AppWidgetHost$Callbacks#this$0",
    "android.media.AudioManager$1#this$0",
    "android.net.ConnectivityManager#sInstance",
    "android.view.accessibility.AccessibilityNodeInfo#mOriginalText",
    "com.android.internal.policy.BackdropFrameRenderer#mDecorView",
    "android.speech.tts.TextToSpeech#mContext",
    "android.app.Dialog#mOnDismissMessage",
    "android.app.Dialog#mOnCancelMessage",
    "android.app.Dialog#mOnShowMessage",
];

#[derive(Clone, Debug)]
enum Pattern {
    /// Any class or edge name.
    Name(String),
    /// An edge named like `field` out of a class like `class`.
    Reference { class: String, field: String },
}

/// Patterns that take matching traces out of a leak report.
#[derive(Clone, Debug, Default)]
pub struct IgnoreList {
    patterns: Vec<Pattern>,
}

impl IgnoreList {
    /// The given patterns, plus [`ANDROID_LIBRARY_LEAKS`] when `builtin`.
    pub fn new<S: AsRef<str>>(patterns: &[S], builtin: bool) -> IgnoreList {
        let builtins = if builtin { ANDROID_LIBRARY_LEAKS } else { &[] };
        let patterns = patterns
            .iter()
            .map(AsRef::as_ref)
            .chain(builtins.iter().copied())
            .map(|p| match p.rsplit_once('#') {
                Some((class, field)) if !class.is_empty() && !field.is_empty() => {
                    Pattern::Reference {
                        class: class.to_string(),
                        field: field.to_string(),
                    }
                }
                _ => Pattern::Name(p.to_string()),
            })
            .collect();
        IgnoreList { patterns }
    }

    /// Whether there is nothing to ignore.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any pattern matches a step of `trace`.
    pub fn matches(&self, trace: &[TraceStep]) -> bool {
        self.patterns.iter().any(|pattern| {
            trace.iter().any(|step| match pattern {
                Pattern::Name(glob) => {
                    glob_match(glob, &step.source)
                        || glob_match(glob, &step.edge)
                        || glob_match(glob, &step.target)
                }
                Pattern::Reference { class, field } => {
                    glob_match(class, &step.source) && glob_match(field, &step.edge)
                }
            })
        })
    }
}

/// Whether `text` matches `glob` (`*` any run, `?` one character), in
/// linear time with one backtrack point.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    while gi < g.len() && g[gi] == '*' {
        gi += 1;
    }
    gi == g.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious exponential matcher.
    fn oracle(g: &[char], t: &[char]) -> bool {
        match g.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|k| oracle(rest, &t[k..])),
            Some((&c, rest)) => {
                t.first().is_some_and(|&x| c == '?' || c == x) && oracle(rest, &t[1..])
            }
        }
    }

    proptest! {
        #[test]
        fn glob_equals_the_exponential_oracle(glob in "[ab*?]{0,7}", text in "[ab]{0,8}") {
            let g: Vec<char> = glob.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(glob_match(&glob, &text), oracle(&g, &t));
        }
    }

    fn step(source: &str, edge: &str, target: &str) -> TraceStep {
        TraceStep {
            source: source.into(),
            edge: edge.into(),
            target: target.into(),
        }
    }

    #[test]
    fn references_match_their_class_and_field_only() {
        let trace = [
            step(
                "(root)",
                "[]",
                "android.view.inputmethod.InputMethodManager",
            ),
            step(
                "android.view.inputmethod.InputMethodManager",
                "mServedView",
                "android.widget.EditText",
            ),
        ];
        assert!(IgnoreList::new::<&str>(&[], true).matches(&trace));
        assert!(!IgnoreList::new::<&str>(&[], false).matches(&trace));
        assert!(IgnoreList::new(&["*EditText"], false).matches(&trace));
        assert!(IgnoreList::new(&["*.InputMethodManager#mServed*"], false).matches(&trace));
        assert!(!IgnoreList::new(&["*.EditText#mServedView"], false).matches(&trace));
    }
}

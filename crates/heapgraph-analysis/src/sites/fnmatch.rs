//! Python's `fnmatch.fnmatch` as `tracemalloc.Filter` uses it: a port of the
//! semantics of `fnmatch.translate` (CPython 3.9–3.14), matched directly
//! instead of through a regular expression.
//!
//! * `*` matches any run of characters, `/` and newlines included; `?` any one.
//! * `[seq]` / `[!seq]`: a set, `]` allowed first; a `[` with no closing `]`
//!   is a literal `[`. Ranges follow translate's chunking: a `-` right after
//!   `[` or `[!` is literal, ranges do not chain (`[a-c-e]` is `a-c`, `-`,
//!   `e`), a trailing `-` is literal, and reversed ranges (`z-a`) are removed
//!   (so `[z-a]` matches nothing and `[!z-a]` any character).
//! * Matching is on Unicode code points, case-sensitive (POSIX `normcase`).

/// One pattern element; all but `Star` match exactly one character.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(u32),
    AnyChar,
    Star,
    Set {
        negated: bool,
        ranges: Vec<(u32, u32)>,
    },
    Never,
}

/// A compiled fnmatch pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles a pattern given as code points.
    pub(crate) fn new(pat: &[u32]) -> Pattern {
        let mut tokens = Vec::new();
        let n = pat.len();
        let mut i = 0;
        while i < n {
            let c = pat[i];
            i += 1;
            if c == u32::from('*') {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            } else if c == u32::from('?') {
                tokens.push(Token::AnyChar);
            } else if c == u32::from('[') {
                let mut j = i;
                if j < n && pat[j] == u32::from('!') {
                    j += 1;
                }
                if j < n && pat[j] == u32::from(']') {
                    j += 1;
                }
                while j < n && pat[j] != u32::from(']') {
                    j += 1;
                }
                if j >= n {
                    tokens.push(Token::Literal(u32::from('[')));
                } else {
                    tokens.push(set_token(&pat[i..j]));
                    i = j + 1;
                }
            } else {
                tokens.push(Token::Literal(c));
            }
        }
        Pattern { tokens }
    }

    /// Compiles a pattern given as a string.
    #[cfg(test)]
    pub(crate) fn from_str(pat: &str) -> Pattern {
        let cps: Vec<u32> = pat.chars().map(u32::from).collect();
        Pattern::new(&cps)
    }

    /// Whether the whole of `name` matches.
    pub(crate) fn matches(&self, name: &[u32]) -> bool {
        let tokens = &self.tokens;
        let (mut t, mut s) = (0usize, 0usize);
        // Position after the last star and the text position it resumes at.
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            if t < tokens.len() {
                if tokens[t] == Token::Star {
                    backtrack = Some((t + 1, s));
                    t += 1;
                    continue;
                }
                if s < name.len() && matches_one(&tokens[t], name[s]) {
                    t += 1;
                    s += 1;
                    continue;
                }
            } else if s == name.len() {
                return true;
            }
            match backtrack {
                Some((bt, bs)) if bs < name.len() => {
                    backtrack = Some((bt, bs + 1));
                    t = bt;
                    s = bs + 1;
                }
                _ => return false,
            }
        }
    }
}

fn matches_one(token: &Token, c: u32) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::AnyChar => true,
        Token::Star => false,
        Token::Never => false,
        Token::Set { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}

/// The set between `[` and `]` (exclusive), as translate builds it.
fn set_token(stuff: &[u32]) -> Token {
    let dash = u32::from('-');
    let bang = u32::from('!');
    let mut ranges = Vec::new();
    if !stuff.contains(&dash) {
        let (negated, body) = match stuff.split_first() {
            Some((&first, rest)) if first == bang => (true, rest),
            _ => (false, stuff),
        };
        if stuff.is_empty() {
            return Token::Never;
        }
        if negated && body.is_empty() {
            return Token::AnyChar;
        }
        ranges.extend(body.iter().map(|&c| (c, c)));
        return Token::Set { negated, ranges };
    }
    // Split into chunks at range hyphens, as translate does.
    let mut chunks: Vec<Vec<u32>> = Vec::new();
    let mut i = 0usize;
    let mut k = if stuff.first() == Some(&bang) { 2 } else { 1 };
    loop {
        let found = stuff
            .get(k..)
            .and_then(|rest| rest.iter().position(|&c| c == dash))
            .map(|p| p + k);
        let Some(at) = found else { break };
        chunks.push(stuff[i..at].to_vec());
        i = at + 1;
        k = at + 3;
    }
    let last = stuff.get(i..).unwrap_or_default();
    if last.is_empty() {
        if let Some(prev) = chunks.last_mut() {
            prev.push(dash);
        }
    } else {
        chunks.push(last.to_vec());
    }
    // Remove empty (reversed) ranges.
    let mut k = chunks.len().saturating_sub(1);
    while k > 0 {
        let prev_last = chunks[k - 1].last().copied();
        let next_first = chunks[k].first().copied();
        if let (Some(a), Some(b)) = (prev_last, next_first) {
            if a > b {
                let next = chunks.remove(k);
                let prev = &mut chunks[k - 1];
                prev.pop();
                prev.extend_from_slice(&next[1..]);
            }
        }
        k -= 1;
    }
    let total: usize = chunks.iter().map(Vec::len).sum();
    if total == 0 {
        return Token::Never;
    }
    let mut negated = false;
    if let Some(first) = chunks.first_mut() {
        if first.first() == Some(&bang) {
            if total == 1 {
                return Token::AnyChar;
            }
            negated = true;
            first.remove(0);
        }
    }
    for (index, chunk) in chunks.iter().enumerate() {
        let start = usize::from(index > 0);
        let end = if index + 1 < chunks.len() {
            chunk.len().saturating_sub(1)
        } else {
            chunk.len()
        };
        for &c in chunk.get(start..end.max(start)).unwrap_or_default() {
            ranges.push((c, c));
        }
        if index + 1 < chunks.len() {
            if let (Some(&lo), Some(&hi)) = (chunk.last(), chunks[index + 1].first()) {
                ranges.push((lo, hi));
            }
        }
    }
    Token::Set { negated, ranges }
}

/// Decodes (generalized) UTF-8 into code points; lone surrogates encoded as
/// 3-byte sequences come back as surrogate code points, stray bytes as
/// U+DC80..U+DCFF (Python's `surrogateescape`).
pub(crate) fn code_points(bytes: &[u8], out: &mut Vec<u32>) {
    out.clear();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (len, init) = match b {
            0x00..=0x7F => (1, u32::from(b)),
            0xC2..=0xDF => (2, u32::from(b & 0x1F)),
            0xE0..=0xEF => (3, u32::from(b & 0x0F)),
            0xF0..=0xF4 => (4, u32::from(b & 0x07)),
            _ => (0, 0),
        };
        let tail = bytes.get(i + 1..i + len.max(1));
        match tail {
            Some(tail) if len > 0 && tail.iter().all(|&t| t & 0xC0 == 0x80) => {
                let cp = tail
                    .iter()
                    .fold(init, |acc, &t| (acc << 6) | u32::from(t & 0x3F));
                out.push(cp);
                i += len;
            }
            _ => {
                out.push(0xDC00 + u32::from(b));
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, name: &str) -> bool {
        let mut cps = Vec::new();
        code_points(name.as_bytes(), &mut cps);
        Pattern::from_str(pat).matches(&cps)
    }

    #[test]
    fn python_fnmatch_cases() {
        // Expected values checked against CPython 3.11 fnmatch.fnmatchcase.
        assert!(m("*.py", "/a/b/c.py"));
        assert!(m("/a/*", "/a/b/c.py"));
        assert!(!m("*.py", "/a/b/c.pyx"));
        assert!(m("a?c", "abc"));
        assert!(m("*", "a\nb"));
        assert!(m("a?b", "a\nb"));
        assert!(m("[abc]x", "bx"));
        assert!(m("[!abc]x", "dx"));
        assert!(!m("[!abc]x", "ax"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(!m("[!]]", "]"));
        assert!(m("[", "["));
        assert!(m("a[b", "a[b"));
        assert!(m("[!]", "[!]"));
        assert!(m("[a-c]", "b"));
        assert!(!m("[a-c]", "-"));
        assert!(m("[a-c-e]", "-"));
        assert!(m("[a-c-e]", "e"));
        assert!(!m("[a-c-e]", "d"));
        assert!(m("[-a]", "-"));
        assert!(m("[a-]", "-"));
        assert!(m("[!-a]", "b"));
        assert!(!m("[z-a]", "m"));
        assert!(!m("[z-a]", "z"));
        assert!(m("[!z-a]", "m"));
        assert!(m("[!z-a-c]", "b"));
        assert!(!m("[!z-a-c]", "c"));
        assert!(m("[\\]", "\\"));
        assert!(m("**a", "bba"));
        assert!(!m("A*", "a"));
    }
}

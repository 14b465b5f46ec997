//! Possible duplicate households: the same family recorded twice, by two workers offline or
//! by one who did not find it. Names are compared across the ways the families' names get
//! written: Turkish (Ayşe), Bulgarian Cyrillic (Айше) and the Latin letters of German,
//! Hungarian and Slovak forms (Ayse, Ajse), with dates of birth where the forms have them.
//!
//! This only proposes pairs for a person to look at; nothing is merged by it.

use std::collections::{BTreeMap, BTreeSet};

use crate::Date;

/// What a household's forms say about who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Household {
    pub case_id: String,
    pub name: String,
    pub people: Vec<Person>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub dob: Option<Date>,
}

/// Why two households may be one.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// A person of the same name (as compared) and the same date of birth is in both.
    SamePerson { name: String, dob: Date },
    /// The households' names are alike (similarity from 0 to 1).
    SimilarName(f64),
}

/// A pair of households that may be one family, the likelier first in [`candidates`].
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub a: String,
    pub b: String,
    /// From 0 to 1.
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// How alike two names must be to count as one.
const SAME_NAME: f64 = 0.88;
/// How alike household names must be to propose a pair on the name alone.
const SIMILAR_HOUSEHOLD: f64 = 0.92;

/// A date of birth or name beginning shared by more households than this says too little
/// (1 January stands in for unknown birthdays) to compare them all with each other.
const MAX_BLOCK: usize = 200;

/// Words of household names that say nothing about the family.
const FILLERS: [&str; 8] = [
    "familie",
    "family",
    "famille",
    "aile",
    "ailesi",
    "semeystvo",
    "csalad",
    "rodina",
];

/// A name as compared: lower case, Cyrillic in Latin letters, the letters that Turkish,
/// Bulgarian, German, Hungarian and Slovak spell differently brought together (ş, ш, sh → s;
/// ç, ч, ch → c; ж, zh → j; ı, ъ → i), anything but letters as single spaces.
pub fn comparable(name: &str) -> String {
    let mut latin = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'а' => latin.push('a'),
            'б' => latin.push('b'),
            'в' => latin.push('v'),
            'г' => latin.push('g'),
            'д' => latin.push('d'),
            'е' | 'э' => latin.push('e'),
            'ж' => latin.push('j'),
            'з' => latin.push('z'),
            'и' | 'ъ' | 'ы' => latin.push('i'),
            'й' | 'ь' => latin.push('y'),
            'к' => latin.push('k'),
            'л' => latin.push('l'),
            'м' => latin.push('m'),
            'н' => latin.push('n'),
            'о' => latin.push('o'),
            'п' => latin.push('p'),
            'р' => latin.push('r'),
            'с' => latin.push('s'),
            'т' => latin.push('t'),
            'у' => latin.push('u'),
            'ф' => latin.push('f'),
            'х' => latin.push('h'),
            'ц' => latin.push_str("ts"),
            'ч' => latin.push('c'),
            'ш' => latin.push('s'),
            'щ' => latin.push_str("st"),
            'ю' => latin.push_str("yu"),
            'я' => latin.push_str("ya"),
            c => latin.push(c),
        }
    }
    let folded = crate::caseload::fold(&latin)
        .replace("sh", "s")
        .replace("ch", "c")
        .replace("zh", "j")
        .replace("dj", "c")
        .replace('ı', "i")
        .replace('ß', "ss");
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        let c = if c.is_alphabetic() { c } else { ' ' };
        if !(c == ' ' && (out.is_empty() || out.ends_with(' '))) {
            out.push(c);
        }
    }
    out.trim_end().to_owned()
}

/// Jaro-Winkler similarity of two strings, from 0 (nothing alike) to 1 (the same).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used = vec![false; b.len()];
    let mut a_matches = Vec::new();
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        if let Some(j) = (lo..hi).find(|&j| !b_used[j] && b[j] == *ca) {
            b_used[j] = true;
            a_matches.push(*ca);
        }
    }
    let m = a_matches.len();
    if m == 0 {
        return 0.0;
    }
    let b_matches: Vec<char> = b
        .iter()
        .zip(&b_used)
        .filter(|(_, used)| **used)
        .map(|(c, _)| *c)
        .collect();
    let transpositions = a_matches
        .iter()
        .zip(&b_matches)
        .filter(|(x, y)| x != y)
        .count()
        / 2;
    let m = m as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// How alike two names are, word by word (in any order), fillers like "Familie" left out.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        comparable(s)
            .split(' ')
            .filter(|w| !w.is_empty() && !FILLERS.contains(w))
            .map(str::to_owned)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Each word of the shorter name with its best partner in the longer one.
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let total: f64 = short
        .iter()
        .map(|w| long.iter().map(|v| jaro_winkler(w, v)).fold(0.0, f64::max))
        .sum();
    total / short.len() as f64
}

/// The pairs of `households` that may be one family, the likelier first, each with the lower
/// case id as `a`. Pairs are only compared when they share a date of birth or the beginning of
/// a name word (in groups of at most [`MAX_BLOCK`]), so thousands of households take
/// milliseconds, not minutes.
pub fn candidates(households: &[Household]) -> Vec<Candidate> {
    let mut blocks: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, h) in households.iter().enumerate() {
        for person in &h.people {
            if let Some(dob) = person.dob {
                blocks.entry(format!("d{dob}")).or_default().insert(i);
            }
        }
        for word in comparable(&h.name).split(' ') {
            if !word.is_empty() && !FILLERS.contains(&word) {
                let start: String = word.chars().take(3).collect();
                blocks.entry(format!("n{start}")).or_default().insert(i);
            }
        }
    }
    let mut pairs = BTreeSet::new();
    for members in blocks.values().filter(|m| m.len() <= MAX_BLOCK) {
        let members: Vec<usize> = members.iter().copied().collect();
        for (k, &i) in members.iter().enumerate() {
            for &j in &members[k + 1..] {
                pairs.insert((i, j));
            }
        }
    }
    let mut out: Vec<Candidate> = pairs
        .into_iter()
        .filter_map(|(i, j)| compare(&households[i], &households[j]))
        .collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| x.a.cmp(&y.a)));
    out
}

fn compare(a: &Household, b: &Household) -> Option<Candidate> {
    let mut reasons = Vec::new();
    for p in &a.people {
        let Some(dob) = p.dob else { continue };
        let same = b
            .people
            .iter()
            .any(|q| q.dob == Some(dob) && name_similarity(&p.name, &q.name) >= SAME_NAME);
        if same {
            reasons.push(Reason::SamePerson {
                name: p.name.clone(),
                dob,
            });
        }
    }
    let names = name_similarity(&a.name, &b.name);
    if names >= SIMILAR_HOUSEHOLD {
        reasons.push(Reason::SimilarName(names));
    }
    if reasons.is_empty() {
        return None;
    }
    let people = reasons
        .iter()
        .filter(|r| matches!(r, Reason::SamePerson { .. }))
        .count();
    let score = (0.5 * names + 0.25 * people.min(2) as f64).min(1.0);
    let (a, b) = if a.case_id <= b.case_id {
        (a, b)
    } else {
        (b, a)
    };
    Some(Candidate {
        a: a.case_id.clone(),
        b: b.case_id.clone(),
        score,
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, dob: &str) -> Person {
        Person {
            name: name.into(),
            dob: dob.parse().ok(),
        }
    }

    fn household(id: &str, name: &str, people: Vec<Person>) -> Household {
        Household {
            case_id: id.into(),
            name: name.into(),
            people,
        }
    }

    #[test]
    fn names_are_compared_across_scripts_and_spellings() {
        assert_eq!(comparable("Ayşe  Demir-Yılmaz"), "ayse demir yilmaz");
        assert_eq!(comparable("Айше Демир"), "ayse demir");
        assert_eq!(comparable("Mehmed Şahin"), comparable("Мехмед Шахин"));
        assert_eq!(comparable("Çiçek"), comparable("Чичек"));
        assert_eq!(comparable("Ayshe"), "ayse");
        assert!(name_similarity("Familie Demir", "Семейство Демир") > 0.99);
        assert!(name_similarity("Fatme Hasanova", "Fatma Hasanowa") > SAME_NAME);
        assert!(
            name_similarity("Emine Yusuf", "Yusuf Emine") > 0.99,
            "any order"
        );
        assert!(name_similarity("Fatme Hasanova", "Petar Ivanov") < 0.7);
        assert_eq!(name_similarity("Familie", "Familie Demir"), 0.0);
        assert!((jaro_winkler("martha", "marhta") - 0.961).abs() < 0.001);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
    }

    #[test]
    fn the_same_family_written_twice_is_proposed_and_strangers_are_not() {
        let households = vec![
            household(
                "c1",
                "Familie Hasanova",
                vec![
                    person("Fatme Hasanova", "1990-02-03"),
                    person("Emre", "2015-07-01"),
                ],
            ),
            // The same family, recorded offline by another worker from a Bulgarian document.
            household(
                "c2",
                "Хасанови",
                vec![person("Фатме Хасанова", "1990-02-03")],
            ),
            // Born the same day, another woman.
            household(
                "c3",
                "Familie Petrova",
                vec![person("Maria Petrova", "1990-02-03")],
            ),
            // A similar household name and nobody in common: proposed, but lower.
            household(
                "c4",
                "Familie Hasanov",
                vec![person("Ali Hasanov", "1970-01-01")],
            ),
            household("c5", "Familie Yılmaz", vec![]),
        ];
        let found = candidates(&households);
        let pairs: Vec<(&str, &str)> = found.iter().map(|c| (c.a.as_str(), c.b.as_str())).collect();
        assert_eq!(pairs[0], ("c1", "c2"), "{found:?}");
        assert!(
            found[0]
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::SamePerson { name, .. } if name == "Fatme Hasanova"))
        );
        assert!(
            !pairs.contains(&("c1", "c3")),
            "a shared birthday alone is no reason"
        );
        assert!(!pairs.iter().any(|(a, b)| *a == "c5" || *b == "c5"));
        assert!(found.iter().all(|c| (0.0..=1.0).contains(&c.score)));
        for w in found.windows(2) {
            assert!(w[0].score >= w[1].score, "likelier first");
        }
    }

    #[test]
    fn among_many_households_the_planted_pair_comes_first() {
        // Names made of syllables, each household its own; one family recorded twice.
        const SYLLABLES: [&str; 12] = [
            "ka", "ro", "mi", "tel", "bu", "san", "do", "ve", "lin", "pa", "gu", "zor",
        ];
        let name = |i: usize| -> String {
            (0..3)
                .map(|k| SYLLABLES[(i / 12_usize.pow(k)) % 12])
                .collect::<String>()
        };
        let mut households: Vec<Household> = (0..1700)
            .map(|i| {
                household(
                    &format!("c{i}"),
                    &format!("Familie {}", name(i)),
                    vec![person(
                        &name(i + 5),
                        &format!("19{:02}-0{}-1{}", 40 + i % 50, 1 + i % 9, i % 10),
                    )],
                )
            })
            .collect();
        households.push(household(
            "twin",
            "Семейство Хасанови",
            vec![person("Фатме Хасанова", "1991-09-09")],
        ));
        households.push(household(
            "original",
            "Familie Hasanovi",
            vec![person("Fatme Hasanova", "1991-09-09")],
        ));
        let found = candidates(&households);
        assert_eq!(
            (found[0].a.as_str(), found[0].b.as_str()),
            ("original", "twin")
        );
    }
}

//! Chinese names and postal addresses after a word that announces them: `姓名`, `收件人`, `联系人`, `我叫` …
//! then a known surname and one or two characters (`person_name`; not after `我是`: too many everyday words
//! start with a surname character, `我是程序员`, `我是司机`, `我是高手`); `地址`, `收货地址`, `住址`, `家住` … then a
//! province, city or district and the rest of the address (`address`). Without the word the same text is
//! left alone (a name in a sentence, `北京时间`, `上海` in a company name).
//!
//! The surnames and the administrative divisions are data (`data/`, see `data/SOURCE.md` for their source
//! and license), read once into hash sets on first use. The detectors compare decoded characters in place
//! (no string is built per call): they run on every cue word, and most cues hold no name.

use super::{Context, Detector, Found};
use crate::redact::text::{starts_with, Ch, Chars, Cursor};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::OnceLock;

const SURNAMES: &str = include_str!("data/surnames.txt");
const DIVISIONS: &str = include_str!("data/divisions.txt");

/// The longest division name, in characters (`克孜勒苏柯尔克孜自治州`, `新疆维吾尔自治区` …).
const MAX_DIVISION: usize = 16;
/// The most characters an address may have.
const MAX_ADDRESS: usize = 64;

/// The surnames. FxHash (here and for the divisions): the sets are built in, so no hash flooding to fear,
/// and a short word hashes in a few instructions (SipHash made the first use cost millions).
fn surnames() -> &'static FxHashSet<&'static str> {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| words(SURNAMES).collect())
}

/// The division names (built on the first address cue only: names need none).
struct Divisions {
    names: FxHashSet<&'static str>,
    /// The first two characters of the names, each with the most characters a name starting with them has:
    /// most text after an address cue starts no division, and is passed over in one look-up.
    starts: FxHashMap<&'static str, usize>,
}

fn divisions() -> &'static Divisions {
    static SET: OnceLock<Divisions> = OnceLock::new();
    SET.get_or_init(|| {
        let count = words(DIVISIONS).count();
        let mut names = FxHashSet::with_capacity_and_hasher(count, Default::default());
        let mut starts = FxHashMap::default();
        for d in words(DIVISIONS) {
            names.insert(d);
            let n = d.chars().count();
            if n >= 2 {
                let two = d.char_indices().nth(2).map_or(d.len(), |(i, _)| i);
                let most = starts.entry(&d[..two]).or_insert(n);
                *most = n.max(*most);
            }
        }
        Divisions { names, starts }
    })
}

/// The lines of a word list.
fn words(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.lines().filter(|l| !l.is_empty())
}

/// The characters `chs` as UTF-8 in `buf` (which holds them: at most 4 bytes each).
fn utf8<'b>(chs: &[Ch], buf: &'b mut [u8]) -> &'b str {
    let mut n = 0;
    for ch in chs {
        n += ch.c.encode_utf8(&mut buf[n..]).len();
    }
    // Only whole characters were written.
    std::str::from_utf8(&buf[..n]).unwrap_or_default()
}

/// What a cue word announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Name,
    Address,
}

/// The cue words (as a reader sees them: the DFA also finds them `\uXXXX`-escaped), longer ones first where
/// one begins another.
const CUES: &[(&str, Cue)] = &[
    ("姓名", Cue::Name),
    ("收件人", Cue::Name),
    ("收货人", Cue::Name),
    ("寄件人", Cue::Name),
    ("联系人", Cue::Name),
    ("我叫", Cue::Name),
    ("名字", Cue::Name),
    ("客户", Cue::Name),
    ("患者", Cue::Name),
    ("地址", Cue::Address),
    ("住址", Cue::Address),
    ("家住", Cue::Address),
    ("住在", Cue::Address),
    ("寄到", Cue::Address),
    ("送到", Cue::Address),
    ("居住地", Cue::Address),
];

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// The most characters a cue word has.
const MAX_CUE: usize = 3;

/// The cue word at `start` and where it ends. (The characters there are decoded once for all the words.)
fn cue_at(ctx: &Context, start: usize) -> Option<(Cue, usize)> {
    let ahead = Chars::<MAX_CUE>::collect(ctx.cursor(start));
    CUES.iter().find_map(|(w, cue)| {
        let n = w.chars().count();
        (n <= ahead.len() && starts_with(&ahead, w)).then(|| (*cue, ahead[n - 1].end))
    })
}

/// Moves past what stands between a cue and its value: a label word glued to it (`收件人姓名`, `客户名字`),
/// a verb (`是`, `为`, `叫`), separators, quotes, blanks, `>` closing an XML tag and a CDATA opening.
fn skip_to_value(c: &mut Cursor) {
    for _ in 0..4 {
        let before = c.at;
        c.forward_while(4, |ch| {
            ch.is_blank()
                || ch.is_ansi()
                || matches!(
                    ch.c,
                    ':' | '=' | '"' | '\'' | '>' | '是' | '为' | '為' | '叫' | '“' | '「'
                )
        });
        c.eat_first(&["姓名", "名字", "名称", "<![CDATA["]);
        if c.at == before {
            return;
        }
    }
}

/// Decides on a cue candidate starting at `start`; returns where the search resumes.
pub fn detect(ctx: &Context, start: usize, out: &mut Vec<Found>) -> usize {
    let Some((cue, word_end)) = cue_at(ctx, start) else {
        return start + 1;
    };
    let mut c = Cursor::new(ctx.hay, word_end, word_end);
    skip_to_value(&mut c);
    let vs = c.at;
    let found = match cue {
        Cue::Name => name(ctx.hay, vs).map(|e| (Detector::PersonName, e)),
        Cue::Address => address(ctx.hay, vs).map(|e| (Detector::Address, e)),
    };
    match found {
        Some((det, ve)) if vs >= ctx.emit_floor => {
            out.push(Found::new(det, vs, ve));
            ve
        }
        _ => word_end,
    }
}

/// The most characters [`name`] reads.
const MAX_NAME_RUN: usize = 8;

/// The Han characters from `at` (at most `N`).
fn han_run<const N: usize>(hay: &[u8], at: usize) -> Chars<N> {
    Chars::collect(Cursor::new(hay, at, at).take_while(|ch| is_han(ch.c)))
}

/// Words that may follow a name directly (`收件人张三电话…`, `联系人李四先生`).
const AFTER_NAME: &[&str] = &[
    "电话", "手机", "地址", "联系", "身份", "先生", "女士", "小姐", "性别", "年龄", "收货", "收件",
    "住址", "邮编", "备注", "微信", "邮箱", "证件", "工号", "的", "男", "女", "和", "与", "在",
    "说", "已", "您",
];

/// Characters that are no part of a given name: particles and function words (`我叫车了`, `我叫你`).
const NOT_GIVEN: &str =
    "了吗呢吧啊呀哦嘛着过们个的得把被给让从到在是有没不也都就还又很太最这那你我他她它谁啥么";

/// Values after a name cue that are no name although they start with a surname character.
const NOT_NAMES: &[&str] = &[
    "管理员",
    "客服",
    "未填写",
    "未知",
    "匿名",
    "测试",
    "用户",
    "本人",
    "暂无",
    "保密",
    "不详",
    "同上",
    "系统",
    "默认",
    "全部",
    "其他",
    "无名",
    "空",
    "无",
    "来自",
    "和你",
    "一个",
    "谁",
    "机器人",
    "小助手",
    "助手",
    "张三李四",
    "应用",
    "单位",
    "公司",
    "平台",
    "信息",
    "明天",
    "今天",
    "时间",
    "都是",
    "成功",
    "失败",
    "高级",
    "华为",
    "安全",
    "文件",
    "国家",
    "元宝",
    "云端",
];

/// A name at `at`: a known surname (compound first), then one or two Han characters, then the end of the
/// name: anything but a Han character, letter or digit, or a word that follows names (`电话`, `先生`). A
/// surname before a form of address (`张先生`) is one too.
pub(super) fn name(hay: &[u8], at: usize) -> Option<usize> {
    // Most runs start with no surname: two characters tell.
    let head = han_run::<2>(hay, at);
    if head.len() < 2 {
        return None;
    }
    let s = surnames();
    let mut buf = [0u8; 8];
    let first2 = utf8(&head, &mut buf);
    let first1 = &first2[..head[0].c.len_utf8()];
    let surname = [s.contains(first2), s.contains(first1)];
    if surname == [false, false] {
        return None;
    }
    let run = han_run::<MAX_NAME_RUN>(hay, at);
    // No name starts with a word that is none (checked last: it rarely matters).
    name_after_surname(hay, &run, surname)
        .filter(|_| !NOT_NAMES.iter().any(|w| starts_with(&run, w)))
}

/// The name at the start of `run` (two Han characters or more) after a surname of two characters
/// (`surname[0]`) or one (`surname[1]`), the compound first.
fn name_after_surname(hay: &[u8], run: &[Ch], surname: [bool; 2]) -> Option<usize> {
    for (sl, known) in [(2, surname[0]), (1, surname[1])] {
        if !known {
            continue;
        }
        // `联系人：张先生`: the surname alone before a form of address.
        if ["先生", "女士", "小姐"]
            .iter()
            .any(|w| starts_with(&run[sl..], w))
        {
            return Some(run[sl - 1].end);
        }
        for given in [2usize, 1] {
            let n = sl + given;
            if n > run.len() {
                continue;
            }
            if run[sl..n].iter().any(|ch| NOT_GIVEN.contains(ch.c)) {
                continue;
            }
            let end = run[n - 1].end;
            let ok = if n < run.len() {
                AFTER_NAME.iter().any(|w| starts_with(&run[n..], w))
            } else {
                name_ends(hay, end)
            };
            if ok {
                return Some(end);
            }
        }
    }
    None
}

/// What follows a name's last Han character ends it: not a letter glued on (`张三abc`, `张三_test` and
/// `王五@corp` are identifiers); digits may follow (`联系人：张三13812345678`, a form without separators).
fn name_ends(hay: &[u8], at: usize) -> bool {
    Cursor::new(hay, at, at)
        .next()
        .is_none_or(|ch| ch.c.is_ascii_digit() || !(ch.is_alnum() || matches!(ch.c, '_' | '@')))
}

/// The characters that show a text is an address: roads, numbers, buildings, rooms, villages; and words.
const STRUCTURE: &str = "路街道巷号弄栋幢座楼室层村镇乡组院苑坊屯";
const STRUCTURE_WORDS: &[&str] = &["胡同", "单元", "小区", "大厦", "花园", "公寓"];

/// Words that end an address: the next field of a form, and particles that end the phrase (`送到北京那里就行`).
const AFTER_ADDRESS: &[&str] = &[
    "电话",
    "手机",
    "联系",
    "收件人",
    "收货人",
    "姓名",
    "邮编",
    "邮政",
    "备注",
    "身份证",
    "微信",
    "邮箱",
    "座机",
    "固话",
    "密码",
    "账号",
    "账户",
    "卡号",
    "银行",
    "订单",
    "运单",
    "单号",
    "金额",
    "共计",
    "合计",
    "时间",
    "日期",
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "就",
    "再",
    "那",
    "这",
];

/// The longest division name at `run[i..]`: how many characters it has.
fn division_at(run: &[Ch], i: usize) -> Option<usize> {
    let s = divisions();
    if run.len() < i + 2 {
        return None;
    }
    let mut buf = [0u8; 4 * MAX_DIVISION];
    let most = *s.starts.get(utf8(&run[i..i + 2], &mut buf))?;
    let max = MAX_DIVISION.min(most).min(run.len() - i);
    let mut ends = [0usize; MAX_DIVISION];
    let mut len = 0;
    for (ch, end) in run[i..i + max].iter().zip(&mut ends) {
        len += ch.c.encode_utf8(&mut buf[len..]).len();
        *end = len;
    }
    (2..=max)
        .rev()
        .find(|&n| std::str::from_utf8(&buf[..ends[n - 1]]).is_ok_and(|d| s.names.contains(d)))
}

/// An address at `at`: one or more administrative divisions (`广东省深圳市南山区`, `北京朝阳区`), then the rest
/// (road, number, building, room) up to punctuation, a blank before non-address text, a quote, the end, or
/// the next field's word (`电话`, `收件人`). It is an address when it names two divisions or a division and
/// a road, number or building (`上海市` alone, `住在北京` stay).
pub(super) fn address(hay: &[u8], at: usize) -> Option<usize> {
    let mut run = Chars::<MAX_ADDRESS>::new();
    let mut c = Cursor::new(hay, at, at);
    while run.len() < MAX_ADDRESS {
        let Some(ch) = c.peek() else { break };
        let part = is_han(ch.c)
            || ch.c.is_ascii_alphanumeric()
            || (matches!(ch.c, '-' | '#' | '·') && !run.is_empty());
        if part {
            run.push(ch);
            c.next();
            continue;
        }
        // One blank inside an address, before more of it (`北京市 朝阳区 建国路88号`): the word after the
        // blank is a division or holds a road, number or building word; other text after a blank ends the
        // address (`52层 共计 11699.92元`).
        if ch.is_blank() && !run.is_empty() {
            let mut ahead = c;
            ahead.next();
            if more_address_at(hay, ahead.at) {
                c = ahead;
                continue;
            }
        }
        break;
    }
    let first = division_at(&run, 0)?;
    let mut i = first;
    let mut divisions = 1;
    while i < run.len() {
        match division_at(&run, i) {
            Some(n) => {
                i += n;
                divisions += 1;
            }
            None => break,
        }
    }
    // The rest, up to the next field's word.
    let mut end = i;
    let mut structure = false;
    while end < run.len() {
        let tail = &run[end..run.len().min(end + 3)];
        if AFTER_ADDRESS.iter().any(|w| starts_with(tail, w)) {
            break;
        }
        structure |=
            STRUCTURE.contains(run[end].c) || STRUCTURE_WORDS.iter().any(|w| starts_with(tail, w));
        end += 1;
    }
    if divisions < 2 && !structure {
        return None;
    }
    Some(run[end - 1].end)
}

/// Does the word at `at` (Han characters, letters and digits up to the next blank or punctuation) go on
/// with an address: a division, or a road, number or building word in it?
fn more_address_at(hay: &[u8], at: usize) -> bool {
    let word = Chars::<MAX_ADDRESS>::collect(Cursor::new(hay, at, at).take_while(|ch| {
        is_han(ch.c) || ch.c.is_ascii_alphanumeric() || matches!(ch.c, '-' | '#')
    }));
    if word.is_empty() {
        return false;
    }
    if AFTER_ADDRESS.iter().any(|w| starts_with(&word, w)) {
        return false;
    }
    division_at(&word, 0).is_some()
        || word.iter().any(|ch| STRUCTURE.contains(ch.c))
        || (0..word.len()).any(|i| STRUCTURE_WORDS.iter().any(|w| starts_with(&word[i..], w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the detector on every cue in `s` (found by brute force, as the DFA would).
    fn hits(s: &str) -> Vec<(String, Detector)> {
        let hay = s.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < hay.len() {
            if CUES
                .iter()
                .any(|(w, _)| hay[at..].starts_with(w.as_bytes()))
            {
                let ctx = Context::new(hay, at, 0);
                let resume = detect(&ctx, at, &mut out);
                at = resume.max(at + 1);
            } else {
                at += 1;
            }
        }
        out.iter()
            .map(|f| (s[f.start..f.end].to_string(), f.det))
            .collect()
    }

    fn one(s: &str) -> Vec<String> {
        hits(s).into_iter().map(|x| x.0).collect()
    }

    #[test]
    fn the_data_is_there() {
        let s = surnames();
        assert!(s.len() > 400, "{}", s.len());
        for w in ["王", "欧阳", "诸葛", "司马"] {
            assert!(s.contains(w), "{w}");
        }
        let d = &divisions().names;
        assert!(d.len() > 3000, "{}", d.len());
        for w in [
            "北京市",
            "北京",
            "广东省",
            "广东",
            "广西",
            "深圳市",
            "南山区",
            "南山",
            "朝阳区",
        ] {
            assert!(d.contains(w), "{w}");
        }
        let longest = DIVISIONS.lines().map(|l| l.chars().count()).max();
        assert!(longest <= Some(MAX_DIVISION), "{longest:?}");
    }

    #[test]
    fn names_after_their_cue_are_found() {
        assert_eq!(one("姓名：张三"), ["张三"]);
        assert_eq!(one("收件人 李小明，电话"), ["李小明"]);
        assert_eq!(one("联系人欧阳娜娜电话138"), ["欧阳娜娜"]);
        assert_eq!(one("我叫王伟。"), ["王伟"]);
        assert_eq!(one("我叫诸葛亮"), ["诸葛亮"]);
        assert_eq!(one("客户姓名=\"赵六\""), ["赵六"]);
        assert_eq!(one("联系人：张先生"), ["张"]);
        assert_eq!(one("联系人：张三13812345678"), ["张三"]);
    }

    #[test]
    fn addresses_after_their_cue_are_found() {
        assert_eq!(
            one("收货地址：北京市朝阳区建国路88号，电话"),
            ["北京市朝阳区建国路88号"]
        );
        assert_eq!(
            one("地址:广东省深圳市南山区科技园10栋3单元501室"),
            ["广东省深圳市南山区科技园10栋3单元501室"]
        );
        assert_eq!(one("家住上海浦东新区张江镇"), ["上海浦东新区张江镇"]);
        assert_eq!(
            one("住址：浙江省杭州市西湖区 文三路 100号 收件人"),
            ["浙江省杭州市西湖区 文三路 100号"]
        );
        // Text after a blank that goes on with no address word ends it: the amount stays.
        assert_eq!(
            one("地址：上海市徐汇区延安西路241号腾讯大厦52层 共计 11699.92元"),
            ["上海市徐汇区延安西路241号腾讯大厦52层"]
        );
        // ... and so does the next field's word after a blank, even one holding an address character.
        assert_eq!(
            one("地址：湖南省长沙市岳麓区湖滨路440号国贸中心16层 账号密码：secret"),
            ["湖南省长沙市岳麓区湖滨路440号国贸中心16层"]
        );
        assert_eq!(
            one("收货地址 哈尔滨市南岗区望京街244号创新大厦16层 共计 91749.28 元"),
            ["哈尔滨市南岗区望京街244号创新大厦16层"]
        );
    }

    #[test]
    fn look_alikes_after_a_cue_stay() {
        for s in [
            "姓名：未填写",
            "联系人：客服",
            "我是程序员",
            "我是司机。",
            "地址：https://example.com",
            "地址: 0x7ffe1234",
            "地址：192.168.1.1",
            "住在北京",
            "地址：上海市",
            "IP地址：北京市",
            "姓名：张三abc",
            "客户端版本",
            "地址：建国路88号",
            "我叫车了",
            "寄到上海虹桥机场",
            "送到北京那里就行",
        ] {
            assert!(hits(s).is_empty(), "{s}: {:?}", hits(s));
        }
    }
}

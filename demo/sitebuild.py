#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sitebuild: a small static-site build, the workload memobs was born from.

    python3 demo/sitebuild.py [--pages N] [--out DIR] [--keep]

Generates N markdown-like source pages (deterministic: page i comes from
random.Random(i)), then builds the site in the phases a real generator has,
each marked for memobs: discovery, taxonomy, rendering, assets, postprocess.
Page objects and their HTML stay in memory until postprocess, as they do in
most generators, so memory grows with N in a way memobs should show.
Standard library only; without a tracer the markers are no-ops.
"""
import argparse
import datetime
import email.utils
import gzip
import html
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emitters", "python"))
import memobs  # noqa: E402

WORDS = """memory page phase render build cache index heap arena tree graph node edge queue
stack buffer stream token parser lexer schema record field value table column row query
plan cost budget limit peak baseline delta growth leak trace probe kernel process thread
signal socket file block inode mount device driver module symbol frame offset address pointer
string vector slice map set list array bucket hash digest checksum compress archive bundle
asset style script template layout theme widget header footer sidebar menu link anchor route
handler request response session cookie header payload batch worker pool scheduler timer clock
epoch window sample metric gauge counter histogram quantile median outlier regression baseline
commit branch merge rebase patch diff review release version tag label note draft article
author editor reader garden river mountain valley forest meadow harbor island bridge tower
lantern compass journey morning evening winter summer autumn spring thunder silver copper
amber cobalt crimson violet emerald quiet rapid gentle brave clever steady curious patient
simple subtle hidden open careful large small early late first final inner outer""".split()
TAGS = """python rust go c linux ebpf kernel memory performance profiling testing ci
build tooling web css html search markdown static-site databases caching networking
security compilers debugging allocators containers cloud storage async concurrency
benchmarks observability tracing logging packaging release design notes""".split()
CATEGORIES = ["engineering", "tutorials", "essays", "releases", "notes", "reviews", "howto", "news"]
LANGS = ["python", "c", "sh", "js"]
STOPWORDS = frozenset("the and for with from into over this that are was were has have".split())
BASE_DATE = datetime.date(2015, 1, 1)
PER_LISTING = 40  # entries per listing page


def write_file(top, rel, data):
    """Write data to top/rel, making directories only when missing; returns its size."""
    path = os.path.join(top, rel)
    try:
        f = open(path, "wb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        f = open(path, "wb")
    with f:
        f.write(data)
    return len(data)


# ---------------------------------------------------------------- sources

def _sentence(rng, i):
    words = rng.choices(WORDS, k=rng.randint(6, 18))
    for _ in range(rng.randint(0, 3)):
        k = rng.randrange(len(words))
        r = rng.random()
        if r < 0.3:
            words[k] = "*%s*" % words[k]
        elif r < 0.5:
            words[k] = "**%s**" % words[k]
        elif r < 0.65:
            words[k] = "`%s()`" % words[k]
        elif r < 0.85:  # older posts; ~2% are unpublished drafts that postprocess must flag
            kind = "draft" if rng.random() < 0.02 else "page"
            words[k] = "[%s](/posts/%s-%05d.html)" % (words[k], kind, rng.randrange(i + 1))
        elif r < 0.95:
            words[k] = "[%s](/tags/%s.html)" % (words[k], rng.choice(TAGS))
        else:
            words[k] = "[%s](https://example.org/%s)" % (words[k], words[k])
    if rng.random() < 0.1:
        words.append(rng.choice(["<b>not a tag</b>", "a & b", "x < y", "\"quoted\""]))
    return " ".join(words).capitalize() + rng.choice(".!?.")


def _code_block(rng):
    lang = rng.choice(LANGS)
    lines = ["```" + lang]
    for _ in range(rng.randint(3, 14)):
        a, b = rng.sample(WORDS, 2)
        lines.append("%s%s_%s(x) %s %d" % ("    " * rng.randint(0, 2), a, b, rng.choice("<>&=+"), rng.randint(0, 999)))
    lines.append("```")
    return "\n".join(lines)


def source_page(i):
    """The text of source page i: front matter and a body of varying length.
    It does not depend on N, so a smaller site is a prefix of a bigger one."""
    rng = random.Random(i)
    title = " ".join(rng.choices(WORDS, k=rng.randint(3, 7))).capitalize()
    date = BASE_DATE + datetime.timedelta(days=rng.randrange(3650))
    out = ["---", "title: " + title, "date: " + date.isoformat(),
           "tags: [%s]" % ", ".join(rng.sample(TAGS, rng.randint(1, 5))),
           "categories: [%s]" % ", ".join(rng.sample(CATEGORIES, rng.randint(1, 2))), "---", ""]
    for _ in range(rng.randint(1, 8)):
        out.append("#" * rng.randint(2, 3) + " " + " ".join(rng.choices(WORDS, k=rng.randint(2, 5))).capitalize())
        out.append("")
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            if r < 0.6:
                out.append("\n".join(_sentence(rng, i) for _ in range(rng.randint(2, 8))))
            elif r < 0.8:
                mark = rng.choice(["-", "*", "1."])
                out.append("\n".join("%s %s" % (mark, _sentence(rng, i)) for _ in range(rng.randint(2, 7))))
            elif r < 0.95:
                out.append(_code_block(rng))
            else:
                out.append("> " + _sentence(rng, i))
            out.append("")
    return "\n".join(out)


def generate_sources(src, n_pages):
    """Write the N source pages under src/posts/YEAR/; returns bytes written."""
    total = 0
    for i in range(n_pages):
        text = source_page(i).encode()
        year = text[text.index(b"date: ") + 6:][:4].decode()
        total += write_file(src, "posts/%s/page-%05d.md" % (year, i), text)
    return total


# ---------------------------------------------------------------- discovery

class Page:
    """A page of the site, source or listing; fields fill in as the build goes."""

    def __init__(self, url, title, date, tags=(), categories=(), body="", kind="post"):
        self.url, self.title, self.date = url, title, date
        self.tags, self.categories, self.body, self.kind = list(tags), list(categories), body, kind
        self.summary = ""
        self.html = None       # rendering
        self.words = None      # assets: the search terms of the page
        self.prev = self.next = None

    @property
    def out_path(self):
        return self.url[1:]


def parse_source(path, text):
    """Front matter (key: value, key: [a, b]) and body of one source file."""
    if not text.startswith("---\n"):
        raise ValueError("%s: no front matter" % path)
    head, body = text[4:].split("\n---\n", 1)
    body = body.lstrip("\n")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        meta[key.strip()] = value
    slug = os.path.splitext(os.path.basename(path))[0]
    page = Page("/posts/%s.html" % slug, meta["title"], datetime.date.fromisoformat(meta["date"]),
                meta.get("tags", []), meta.get("categories", []), body)
    first = next((b for b in body.split("\n\n") if b and b[0] not in "#`>-*1"), "")
    page.summary = " ".join(re.sub(r"[*`\[\]]|\([^)]*\)", "", first).split())[:200]
    return page


def discover(src):
    """Page objects of every source under src, newest first, linked prev/next."""
    pages = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".md"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    pages.append(parse_source(path, f.read()))
    pages.sort(key=lambda p: (p.date, p.url), reverse=True)
    for newer, older in zip(pages, pages[1:]):
        newer.next, older.prev = older, newer
    return pages


# ---------------------------------------------------------------- taxonomy

def listing_pages(base, title, members):
    """Paginated listing of members at base.html, base-2.html, ..., as markdown."""
    out = []
    chunks = [members[k:k + PER_LISTING] for k in range(0, len(members), PER_LISTING)] or [[]]
    for n, chunk in enumerate(chunks, 1):
        lines = ["## %s (%d pages)" % (title, len(members)), ""]
        for p in chunk:
            lines.append("- [%s](%s) *%s* %s" % (p.title, p.url, p.date.isoformat(), p.summary[:80]))
        lines.append("")
        if n < len(chunks):
            lines.append("[Older](%s-%d.html)" % (base, n + 1))
        out.append(Page(base + ("-%d.html" % n if n > 1 else ".html"), title, chunk[0].date if chunk else BASE_DATE,
                        body="\n".join(lines), kind="listing"))
    return out


def build_taxonomy(pages):
    """{"tags": {term: [pages]}, "categories": {...}} and their listing pages."""
    index = {"tags": {}, "categories": {}}
    for p in pages:
        for t in p.tags:
            index["tags"].setdefault(t, []).append(p)
        for c in p.categories:
            index["categories"].setdefault(c, []).append(p)
    listings = listing_pages("/index", "Latest", pages)
    for kind in ("tags", "categories"):
        for term in sorted(index[kind]):
            title = "%s: %s" % (kind[:-1].capitalize(), term)
            listings.extend(listing_pages("/%s/%s" % (kind, term), title, index[kind][term]))
    return index, listings


# ---------------------------------------------------------------- rendering

INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*(.+?)\*|\[([^\]]+)\]\(([^)\s]+)\)")


def _inline_sub(m):
    code, strong, em, text, url = m.groups()
    if code is not None:
        return "<code>%s</code>" % code
    if strong is not None:
        return "<strong>%s</strong>" % INLINE.sub(_inline_sub, strong)
    if em is not None:
        return "<em>%s</em>" % INLINE.sub(_inline_sub, em)
    return '<a href="%s">%s</a>' % (url, text)


def inline(text):
    # Escaping first is safe: the markup characters are not escaped by html.escape.
    return INLINE.sub(_inline_sub, html.escape(text))


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def markdown(text):
    """(html, toc) of the markdown-like body: headings, paragraphs, lists,
    fenced code, blockquotes, emphasis, code spans, links, escaping."""
    out, toc, para, items, lst = [], [], [], [], None
    lines = text.split("\n")

    def flush():
        nonlocal lst
        if para:
            out.append("<p>%s</p>" % inline(" ".join(para)))
            para.clear()
        if items:
            out.append("<%s>%s</%s>" % (lst, "".join("<li>%s</li>" % inline(t) for t in items), lst))
            items.clear()
            lst = None

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            try:
                j = lines.index("```", i + 1)
            except ValueError:  # unclosed fence: code to the end
                j = len(lines)
            code = html.escape("\n".join(lines[i + 1:j]))
            out.append('<pre><code class="language-%s">%s</code></pre>' % (html.escape(line[3:]), code))
            i = j + 1
            continue
        m = re.match(r"(#{1,6}) (.*)", line)
        if m:
            flush()
            level, title = len(m.group(1)), m.group(2)
            anchor = "%s-%d" % (slugify(title), len(toc))
            toc.append((level, anchor, title))
            out.append('<h%d id="%s">%s</h%d>' % (level, anchor, inline(title), level))
        elif re.match(r"([-*]|\d+\.) ", line):
            kind = "ol" if line[0].isdigit() else "ul"
            if para or (lst and lst != kind):
                flush()
            lst = kind
            items.append(line.split(" ", 1)[1])
        elif line.startswith("> "):
            flush()
            out.append("<blockquote><p>%s</p></blockquote>" % inline(line[2:]))
        elif not line.strip():
            flush()
        else:
            if items:
                flush()
            para.append(line)
        i += 1
    flush()
    return "\n".join(out), toc


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | sitebuild demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
</head>
<body class="{kind}">
<header><a class="home" href="/index.html">sitebuild demo</a>
<nav>{nav}</nav></header>
<div class="crumbs"><a href="/index.html">home</a> / {crumbs}</div>
<main>
<article>
<h1>{title}</h1>
<p class="meta"><time datetime="{date}">{date}</time> {cats}</p>
{toc}
{content}
<p class="tags">{tags}</p>
</article>
<nav class="pager">{pager}</nav>
</main>
<aside>{cloud}</aside>
<footer>Generated by demo/sitebuild.py for memobs. <a href="/sitemap.xml">sitemap</a></footer>
</body>
</html>
"""


def site_chrome(index):
    """The parts every page shares: category navigation and the tag cloud."""
    nav = " ".join('<a href="/categories/%s.html">%s</a>' % (c, c) for c in sorted(index["categories"]))
    top = sorted(index["tags"].items(), key=lambda kv: (-len(kv[1]), kv[0]))[:30]
    cloud = "<h2>Tags</h2><ul>%s</ul>" % "".join(
        '<li class="tag-%s"><a href="/tags/%s.html">%s</a> (%d)</li>' % (t, t, t, len(ps)) for t, ps in top)
    return nav, cloud


def render_page(page, nav, cloud):
    content, toc = markdown(page.body)
    toc_html = ""
    if len(toc) > 2:
        toc_html = '<nav class="toc"><ol>%s</ol></nav>' % "".join(
            '<li class="l%d"><a href="#%s">%s</a></li>' % (lvl, a, html.escape(t)) for lvl, a, t in toc)
    pager = " ".join('<a rel="%s" href="%s">%s</a>' % (rel, p.url, html.escape(p.title))
                     for rel, p in (("prev", page.prev), ("next", page.next)) if p)
    return TEMPLATE.format(
        title=html.escape(page.title), kind=page.kind, nav=nav, cloud=cloud, toc=toc_html, content=content,
        crumbs=html.escape(page.url[1:].split("/")[0].split(".")[0]), date=page.date.isoformat(), pager=pager,
        cats=" ".join('<a class="cat" href="/categories/%s.html">%s</a>' % (c, c) for c in page.categories),
        tags=" ".join('<a class="tag-%s" href="/tags/%s.html">#%s</a>' % (t, t, t) for t in page.tags))


def render_all(site, pages, index):
    nav, cloud = site_chrome(index)
    written = 0
    for p in pages:
        p.html = render_page(p, nav, cloud)
        written += write_file(site, p.out_path, p.html.encode())
    return written


# ---------------------------------------------------------------- assets

def stylesheet(index):
    """Base rules plus one colour per tag and category (stable across runs)."""
    rules = ["body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72em;display:grid;"
             "grid-template-columns:1fr 16em}", "header,footer{grid-column:1/3;padding:1em}",
             "pre{background:#f6f8fa;padding:1em;overflow:auto}", ".toc{float:right;font-size:.9em}",
             ".pager a{margin-right:1em}", "aside ul{list-style:none;padding:0}"]
    for kind in ("tags", "categories"):
        for term in sorted(index[kind]):
            hue = zlib.crc32(term.encode()) % 360
            sel = ".tag-%s" % term if kind == "tags" else ".cat[href$='/%s.html']" % term
            rules.append("%s{color:hsl(%d,60%%,35%%);border-bottom:1px solid hsl(%d,60%%,80%%)}" % (sel, hue, hue))
    return "\n".join(rules) + "\n"


WORD_RE = re.compile(r"[a-z][a-z0-9]{2,}")


def search_index(pages):
    """Per-page documents and an inverted index word -> [document number]."""
    docs, inverted = [], {}
    for n, p in enumerate(pages):
        text = re.sub(r"\([^)]*\)|`[^`]*`", " ", p.body.lower())
        p.words = sorted(set(WORD_RE.findall(text)) - STOPWORDS)
        docs.append({"t": p.title, "u": p.url, "d": p.date.isoformat(), "w": p.words})
        for w in p.words:
            inverted.setdefault(w, []).append(n)
    return docs, inverted


def build_assets(site, pages, index):
    """Write the stylesheet and the search index; returns (files, bytes)."""
    docs, inverted = search_index(pages)
    files = {"assets/style.css": stylesheet(index),
             "assets/search/docs.json": json.dumps(docs, separators=(",", ":")),
             "assets/search/terms.json": json.dumps({k: len(inverted[k]) for k in sorted(inverted)})}
    shards = {}
    for w in sorted(inverted):
        shards.setdefault(w[0], {})[w] = inverted[w]
    for letter, shard in shards.items():
        files["assets/search/index-%s.json" % letter] = json.dumps(shard, separators=(",", ":"))
    return len(files), sum(write_file(site, rel, data.encode()) for rel, data in files.items())


# ---------------------------------------------------------------- postprocess

HREF = re.compile(r'href="(/[^"#]*)(#[^"]*)?"')


def relative_url(target, base):
    """Site-absolute target relative to the page at site-absolute base."""
    t, b = target.split("/")[1:], base.split("/")[1:-1]
    k = 0
    while k < len(b) and k < len(t) - 1 and t[k] == b[k]:
        k += 1
    return "../" * (len(b) - k) + "/".join(t[k:]) or "./"


def relative_links(page, known, broken):
    """Make site-absolute links relative to the page; collect the dangling ones."""
    def sub(m):
        target, frag = m.group(1), m.group(2) or ""
        if not (target in known or target.endswith((".css", ".xml"))):
            broken.append((page.url, target))
        return 'href="%s%s"' % (relative_url(target, page.url), frag)

    return HREF.sub(sub, page.html)


def rfc822(date):
    return email.utils.format_datetime(datetime.datetime.combine(date, datetime.time(), datetime.timezone.utc))


def feed(posts, limit=30):
    """RSS 2.0 of the newest posts; dated by the newest post, not the clock."""
    newest = rfc822(posts[0].date if posts else BASE_DATE)
    items = "".join(
        "<item><title>%s</title><link>https://demo.example%s</link><guid>https://demo.example%s</guid>"
        "<pubDate>%s</pubDate><description>%s</description></item>\n"
        % (html.escape(p.title), p.url, p.url, rfc822(p.date), html.escape(p.summary)) for p in posts[:limit])
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>sitebuild demo</title>'
            "<link>https://demo.example/</link><description>memobs demo site</description>"
            "<lastBuildDate>%s</lastBuildDate>\n%s</channel></rss>\n" % (newest, items))


def sitemap(pages):
    """sitemap.xml of every page, sorted by URL."""
    urls = "".join("<url><loc>https://demo.example%s</loc><lastmod>%s</lastmod></url>\n"
                   % (p.url, p.date.isoformat()) for p in sorted(pages, key=lambda p: p.url))
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n%s</urlset>\n' % urls)


def postprocess(site, all_pages, posts):
    """Relative links, link check, sitemap, feed, gzip; returns (files, bytes, broken)."""
    known = {p.url for p in all_pages}
    broken, files, written = [], 0, 0
    for p in all_pages:
        data = relative_links(p, known, broken).encode()
        written += write_file(site, p.out_path, data)
        written += write_file(site, p.out_path + ".gz", gzip.compress(data, 6, mtime=0))
        files += 2
    report = "".join("%s -> %s\n" % b for b in broken)
    for rel, data in (("sitemap.xml", sitemap(all_pages)), ("feed.xml", feed(posts)),
                      ("broken-links.txt", report)):
        written += write_file(site, rel, data.encode())
        files += 1
    return files, written, len(broken)


# ---------------------------------------------------------------- main

def prepare_out(out):
    """A fresh or earlier sitebuild directory: never clobber someone else's files."""
    tag = os.path.join(out, ".sitebuild")
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(tag):
        raise ValueError("%s exists and is not a sitebuild output directory" % out)
    for sub in ("src", "site"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    open(tag, "w").close()


def build(out, n_pages):
    src, site = os.path.join(out, "src"), os.path.join(out, "site")
    with memobs.phase("generate"):
        src_bytes = generate_sources(src, n_pages)
        memobs.items(n_pages)
    with memobs.phase("discovery"):
        posts = discover(src)
        memobs.items(len(posts))
    with memobs.phase("taxonomy"):
        index, listings = build_taxonomy(posts)
        memobs.items(len(index["tags"]) + len(index["categories"]))
    all_pages = posts + listings
    with memobs.phase("rendering"):
        written = render_all(site, all_pages, index)
        memobs.items(len(all_pages))
    with memobs.phase("assets"):
        n_files, n_bytes = build_assets(site, posts, index)
        written += n_bytes
        memobs.items(n_files)
    with memobs.phase("postprocess"):
        n_files, n_bytes, n_broken = postprocess(site, all_pages, posts)
        written += n_bytes
        memobs.items(n_files)
    return {"pages": len(posts), "listings": len(listings), "src_bytes": src_bytes,
            "written": written, "broken": n_broken}


def main(argv=None):
    ap = argparse.ArgumentParser(description="A small static-site build to observe with memobs.")
    ap.add_argument("--pages", type=int, default=2000, help="source pages to generate (default 2000)")
    ap.add_argument("--out", help="output directory (default: a temporary one, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary output directory")
    args = ap.parse_args(argv)
    if args.pages < 1:
        ap.error("--pages must be at least 1")
    out = args.out or tempfile.mkdtemp(prefix="sitebuild-")
    try:
        prepare_out(out)
        t0 = time.monotonic()
        s = build(out, args.pages)
        elapsed = time.monotonic() - t0  # the build, not the clean-up below
    except ValueError as e:
        print("sitebuild: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("sitebuild: %s" % e, file=sys.stderr)
        return 1
    finally:
        if not args.out and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    print("sitebuild: %d pages (+%d listings), %d bytes written (+%d of sources), %d broken links, %.2f s%s"
          % (s["pages"], s["listings"], s["written"], s["src_bytes"], s["broken"], elapsed,
             ", kept in " + out if args.out or args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

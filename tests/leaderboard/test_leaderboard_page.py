"""The static leaderboard page: escaping of submitted strings, structure, and behaviour in a real browser."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from econbench.leaderboard.render import fmt, md_escape, render, safe_url, script_json
from econbench.leaderboard.results import measure
from econbench.leaderboard.schema import Result, parse_result, task_fingerprint
from econbench.leaderboard.store import Store

PLANNER = "econbench/InvestmentLQ-Planner-v0"  # single agent: optimality gap
GAME = "econbench/InvestmentOligopoly-v0"  # multi-agent: equilibrium gap
XSS = "<script>alert(1)</script>"
MD_INJECT = "x | y *z* [a](javascript:alert(1))"
AUTHOR = 'O\'Brien "Bob" <b>bold</b>'
# A valid 1x1 PNG, so the page's figure loads without a console error.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def variant(r: Result, factor: float, **changes: Any) -> Result:
    """A validated copy with scores scaled by ``factor`` (so ranks differ) and fields replaced."""
    d = r.model_dump(mode="json")
    d["per_seed_scores"] = [s * factor for s in d["per_seed_scores"]]
    d["score"] = sum(d["per_seed_scores"]) / len(d["per_seed_scores"])
    d["score_ci95"] = sorted(v * factor for v in d["score_ci95"])
    d["score_iqm"] *= factor
    d.update(changes)
    return Result.model_validate(d)


@pytest.fixture(scope="module")
def measured() -> dict[str, list[Result]]:
    return {
        PLANNER: [measure(PLANNER, p, method=f"{p} rule", authors=["econbench"]) for p in ("exact", "freeze")],
        GAME: [measure(GAME, p, method=f"{p} play", authors=["econbench"]) for p in ("exact", "competitive", "freeze")],
    }


@pytest.fixture(scope="module")
def entries(measured: dict[str, list[Result]]) -> list[Result]:
    """Real entries of two tasks plus hostile submissions on the game."""
    competitive = measured[GAME][1]
    hostile = variant(
        competitive,
        0.5,
        method=XSS,
        authors=[AUTHOR, "</script><script>alert(3)</script>"],
        policy="ckpt\u2028line",
        notes="</script><img src=x onerror=alert(2)>\nsecond line",
    )
    injected = variant(competitive, 3.0, method=MD_INJECT, verified=True, code_url="https://example.org/a?b=1&c=(2)|x")
    # The schema refuses a javascript: URL; model_copy skips validation, as a tampered store might.
    bad_url = variant(competitive, 0.25, method="bad url").model_copy(update={"code_url": "javascript:alert(4)"})
    return measured[PLANNER] + measured[GAME] + [hostile, injected, bad_url]


@pytest.fixture(scope="module")
def site(entries: list[Result], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("site")
    (out / "figures").mkdir()
    (out / "figures" / "InvestmentOligopoly-v0-rollout.png").write_bytes(PNG)
    (out / "figures" / "InvestmentOligopoly-Firm-v0-rollout.png").write_bytes(PNG)  # another task: not embedded
    return render(entries, out)


def without_data(page: str) -> str:
    """The page less its embedded JSON, which holds every submitted string verbatim (escaped for JSON)."""
    return re.sub(r'<script type="application/json" id="leaderboard-data">.*?</script>', "", page, flags=re.S)


def sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section class="task" id="[^"]*" data-task="([^"]*)">(.*?)</section>', page, re.S))


# ----------------------------------------------------------------------------- unit tests


def test_render_writes_both_files(site: tuple[Path, Path]) -> None:
    page, table = site
    assert page.name == "index.html" and table.name == "LEADERBOARD.md"
    assert page.is_file() and table.is_file()


def test_one_section_per_task_in_id_order(site: tuple[Path, Path], entries: list[Result]) -> None:
    page = site[0].read_text()
    found = re.findall(r'<section class="task" id="[^"]*" data-task="([^"]*)"', page)
    assert found == sorted({r.task.id for r in entries}) == [PLANNER, GAME]
    secs = sections(page)
    assert secs[PLANNER].count("<tr data-entry=") == 2
    assert secs[GAME].count("<tr data-entry=") == 6
    assert "Lucas-Prescott" in secs[PLANNER]  # the card's summary
    assert secs[GAME].count('class="point"') == 6


def test_overview_has_a_row_per_task_grouped_by_family(site: tuple[Path, Path], entries: list[Result]) -> None:
    page = site[0].read_text()
    overview = re.search(r'<section class="overview" id="overview">(.*?)</section>', page, re.S).group(1)
    rows = re.findall(r'<tr data-task="([^"]*)">(.*?)</tr>', overview, re.S)
    assert [t for t, _ in rows] == [PLANNER, GAME]
    families = re.findall(r'<th scope="rowgroup" rowspan="1" class="family">([^<]*)</th>', overview)
    assert families == ["InvestmentLQ", "InvestmentOligopoly"]
    links = dict(re.findall(r'<tr data-task="([^"]*)">.*?<a href="#([^"]*)">', overview, re.S))
    for task_id, anchor in links.items():
        assert f'<section class="task" id="{anchor}" data-task="{task_id}">' in page
    game = dict(rows)[GAME]
    best = max((r for r in entries if r.task.id == GAME and r.verified), key=lambda r: r.score)
    assert best.method == MD_INJECT  # the only verified entry of the game: the unverified ones are not "best"
    assert fmt(best.score) in game and "relative \u03b5" in game
    assert "econbench submit result.json --policy FOLDER" in overview
    md = site[1].read_text()
    assert "| InvestmentLQ | [InvestmentLQ-Planner-v0](#econbenchinvestmentlq-planner-v0) |" in md
    assert "### econbench/InvestmentLQ-Planner-v0" in md


def test_families_group_tasks_base_game_first() -> None:
    from econbench.leaderboard.families import by_family, family_of

    ids = [
        "econbench/EVCharging-Operator-v0",
        "econbench/CapitalGoodsGame-1v1-v0",
        "econbench/EVCharging-v0",
        "econbench/CapitalGoods-Planner-v0",
        "econbench/CapitalGoods-v0",
        "econbench/CapitalGoodsGame-v0",
    ]
    assert family_of("econbench/EVCharging-Operator-v0") == "EVCharging"
    assert by_family(ids) == [
        ("CapitalGoods", ["econbench/CapitalGoods-v0", "econbench/CapitalGoods-Planner-v0"]),
        ("CapitalGoodsGame", ["econbench/CapitalGoodsGame-v0", "econbench/CapitalGoodsGame-1v1-v0"]),
        ("EVCharging", ["econbench/EVCharging-v0", "econbench/EVCharging-Operator-v0"]),
    ]


def test_names_wrap_only_at_separators(site: tuple[Path, Path]) -> None:
    from econbench.leaderboard.text import breakable

    assert breakable("shared_ppo_cpu_seed0") == "shared_<wbr>ppo_<wbr>cpu_<wbr>seed0"
    assert breakable("<b>a-b</b>") == "&lt;b&gt;a-<wbr>b&lt;/<wbr>b&gt;"
    page = site[0].read_text()
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert "overflow-wrap:anywhere" not in css and "word-break:break-all" not in css
    assert "overflow-wrap:normal;word-break:normal" in css


def test_page_is_self_contained(site: tuple[Path, Path]) -> None:
    page = site[0].read_text()
    assert '<link rel="icon" href="data:,">' in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page)
    assert "@import" not in page and "url(" not in page
    assert page.count("<style>") == 1 and page.count("<script") == 2


def test_html_escapes_submitted_strings(site: tuple[Path, Path]) -> None:
    page = site[0].read_text()
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    shown = without_data(page)
    assert "<img src=x" not in page and "onerror=alert(2)" not in shown.replace(
        "&lt;img src=x onerror=alert(2)&gt;", ""
    )
    assert "O&#x27;Brien &quot;Bob&quot; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold" not in page
    # Only our two script blocks; the JSON one cannot be closed by a submitted '</script>'.
    assert len(re.findall(r"<script\b", page, re.I)) == 2
    assert len(re.findall(r"</script", page, re.I)) == 2
    data = re.search(r'<script type="application/json" id="leaderboard-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and ">" not in data and "\u2028" not in data
    methods = {e["method"] for e in json.loads(data)}
    assert {XSS, MD_INJECT, "bad url"} <= methods


def test_links_only_for_http(site: tuple[Path, Path]) -> None:
    page = site[0].read_text()
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith(("#", "figures/", "http://", "https://", "data:,")) for h in hrefs)
    assert "javascript:alert(4)" not in without_data(page)  # not shown as a link, nor at all
    assert 'href="https://example.org/a?b=1&amp;c=(2)|x"' in page
    assert safe_url("javascript:alert(1)") is None and safe_url("java\tscript:alert(1)") is None
    assert safe_url("JAVASCRIPT:alert(1)") is None and safe_url("//evil.example") is None
    assert safe_url("data:text/html,x") is None and safe_url("https://ok.example/x") == "https://ok.example/x"


def test_script_json_cannot_close_script() -> None:
    text = script_json({"m": "</script><!-- & \u2028\u2029", "x": float("nan")})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"m": "</script><!-- & \u2028\u2029", "x": None}


def test_markdown_escapes_and_keeps_table_shape(site: tuple[Path, Path]) -> None:
    md = site[1].read_text()
    assert "<script" not in md and "<b>" not in md and "<img" not in md
    assert "[a](javascript" not in md and r"\[a\](javascript:alert(1))" in md
    assert r"x \| y \*z\*" in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "javascript:alert(4)" not in md
    assert "([code](<https://example.org/a?b=1&c=%282%29%7Cx>))" in md
    for task, n in ((GAME, 6), (PLANNER, 2)):
        block = md.split(f"## {md_escape(task)}\n")[1].split("\n## ")[0]
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len(rows) == 2 + n  # header, separator, entries: the newline in notes/policy split no row
        for row in rows:
            assert len(re.findall(r"(?<!\\)\|", row)) == 11  # 10 columns, no stray cell separators
    game_rows = [line for line in md.split(f"## {md_escape(GAME)}\n")[1].splitlines() if line.startswith("| ")][1:]
    ranks = [int(line.split("|")[1]) for line in game_rows]
    assert ranks == list(range(1, 7))  # best score first
    assert "![InvestmentOligopoly-v0-rollout.png](<figures/InvestmentOligopoly-v0-rollout.png>)" in md


def test_md_escape() -> None:
    assert md_escape("a|b") == r"a\|b"
    assert md_escape("*x* _y_ `z` [l](u) ~s~ \\") == r"\*x\* \_y\_ \`z\` \[l\](u) \~s\~ \\"
    assert md_escape("<b>&amp;</b>") == "&lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert md_escape("one\ntwo\r\nthree\u2028four") == "one two three four"
    assert md_escape("\\|") == r"\\\|"  # an escaped backslash cannot un-escape the pipe


def test_numbers_formatted(site: tuple[Path, Path], measured: dict[str, list[Result]]) -> None:
    assert fmt(1927830.0046646073) == "1,927,830"
    assert fmt(126.30071367928049) == "126.3"
    assert fmt(0.9772753810270771) == "0.9773"
    assert fmt(6.985175863398516e-17) == "6.985e-17"
    assert fmt(1e108) == "1.000e108" and fmt(-2.5e-7) == "-2.500e-7"
    assert fmt(0.0) == "0" and fmt(None) == "\u2014" and fmt(float("inf")) == "\u221e"
    page = site[0].read_text()
    exact = measured[PLANNER][0]
    assert fmt(exact.score) in page and f"[{fmt(exact.score_ci95[0])}, {fmt(exact.score_ci95[1])}]" in page
    assert f'data-sort="{exact.score!r}"' in page


def test_iqm_column_is_across_seeds(site: tuple[Path, Path], measured: dict[str, list[Result]]) -> None:
    r = measured[GAME][0]
    middle = sorted(r.per_seed_scores)[1:4]  # 5 seeds: the middle 50% are the middle three
    expected = sum(middle) / 3
    cell = re.search(
        r'<td class="num" data-sort="([^"]*)">[^<]*</td>',
        sections(site[0].read_text())[GAME].partition("exact play")[2],
    ).group(1)  # the IQM cell of the exact entry's row
    assert math.isclose(float(cell), expected, rel_tol=1e-12)
    assert math.isclose(r.score_iqm, expected, rel_tol=1e-12)  # measure() stores the same IQM across seeds


def test_figures_only_in_their_section(site: tuple[Path, Path]) -> None:
    secs = sections(site[0].read_text())
    assert '<img src="figures/InvestmentOligopoly-v0-rollout.png"' in secs[GAME]
    assert "figures/" not in secs[PLANNER]
    assert "Firm-v0-rollout" not in site[0].read_text()


def test_chart_log_scale_with_zero_and_huge_gaps(measured: dict[str, list[Result]], tmp_path: Path) -> None:
    base = measured[PLANNER][1].model_dump(mode="json")
    entries = []
    for k, (g, ci) in enumerate([(0.0, [0.0, 0.0]), (0.03, [0.01, 0.05]), (1e108, [5e107, 2e108])]):
        d = json.loads(json.dumps(base))
        d["method"] = f"m{k}"
        d["gaps"][0].update(normalized=g, ci95=ci)
        d["task"]["fingerprint"] = task_fingerprint(PLANNER)
        entries.append(Result.model_validate(d))
    page = render(entries, tmp_path)[0].read_text()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", page, re.S).group(0)
    assert 'data-scale="log"' in svg and ">0</text>" in svg and ">1e100</text>" in svg
    xs = [float(v) for v in re.findall(r'<circle class="point" cx="([-\d.]+)"', svg)]
    ys = [float(v) for v in re.findall(r'<circle class="point" cx="[-\d.]+" cy="([-\d.]+)"', svg)]
    assert len(xs) == 3 and all(0 <= x <= 680 for x in xs) and all(0 <= y <= 360 for y in ys)
    by_method = dict(zip(re.findall(r"<title>#\d+ (m\d)", svg), xs))
    assert by_method["m0"] < by_method["m1"] < by_method["m2"]  # 0 on its own tick, left of the log axis
    assert "1.000e108" in page


def _extreme(
    r: Result, method: str, scores: list[float], ci: list[float], gaps: list[dict[str, Any]], **changes: Any
) -> Result:
    """An entry the schema accepts (parse_result, as a submission is read), with these numbers."""
    d = r.model_dump(mode="json")
    n = len(d["seeds"])
    d.update(
        method=method,
        per_seed_scores=scores * n,
        score=scores[0],
        score_ci95=ci,
        score_iqm=scores[0],
        gaps=gaps,
        **changes,
    )
    return parse_result(json.dumps(d))


def test_whatever_the_schema_accepts_renders(measured: dict[str, list[Result]], tmp_path: Path) -> None:
    """Extreme but finite magnitudes, long names with markup, twenty gaps, stored and read back: the page renders,
    every chart coordinate is a number, and the text stays escaped."""
    big, tiny = 1.7976931348623157e308, 5e-324
    game, planner = measured[GAME][0], measured[PLANNER][0]
    long_xss = (XSS + "\u00e9" * 200)[:200]
    eq_gaps = [
        {
            "kind": "equilibrium",
            "method": "exact",
            "group": f"<b>g{i}</b>",
            "value": v,
            "relative": rel,
            "ci95": [-big, big],
            "description": "</script>" * 200,
        }
        for i, (v, rel) in enumerate([(big, big), (-big, -big), (tiny, tiny), (0.0, None)] * 5)
    ]
    opt_gaps = [
        {"kind": "optimality", "method": "dp lower bound", "value": -big, "normalized": big, "ci95": [-big, big]}
    ]
    entries = [
        _extreme(
            game,
            long_xss,
            [big],
            [-big, big],
            eq_gaps,
            notes="</script><img src=x onerror=alert(2)>\n" * 50,
            authors=[f"{XSS} {i}"[:200] for i in range(50)],
        ),
        _extreme(game, "minus the largest float", [-big], [-big, -big], eq_gaps[1:3]),
        _extreme(game, "tiny", [tiny], [0.0, tiny], eq_gaps[2:3]),
        _extreme(planner, "huge regret", [tiny], [-tiny, tiny], opt_gaps),
        _extreme(
            planner,
            "all zero",
            [0.0],
            [0.0, 0.0],
            [{**opt_gaps[0], "value": 0.0, "normalized": 0.0, "ci95": [0.0, 0.0]}],
        ),
    ]
    store = Store(tmp_path / "s.sqlite")
    for r in entries:
        store.add(r)
    page, table = render(store.results(), tmp_path / "site")
    text = page.read_text()
    charts = re.findall(r'<svg class="chart".*?</svg>', text, re.DOTALL)
    assert len(charts) == 2
    coords = re.findall(r'\b(?:x|y|x1|x2|y1|y2|cx|cy)="([^"]*)"', "".join(charts))
    assert coords and all(math.isfinite(float(c)) for c in coords)
    assert "1.798e308" in text and "-1.798e308" in text and "4.941e-324" in text  # fmt(5e-324), a subnormal
    assert XSS not in text and "<b>g" not in text and "<img src=x" not in text
    assert len(re.findall(r"<script\b", text, re.IGNORECASE)) == 2
    assert long_xss.replace("<", "&lt;").replace(">", "&gt;") in text
    md = table.read_text()
    assert "<script" not in md and md.count("\n| ") >= 2 + 5
    for name in ("minus the largest float", "tiny", "huge regret", "all zero"):
        assert name in md


def test_empty_leaderboard(tmp_path: Path) -> None:
    page, table = render([], tmp_path, title="empty <board>")
    assert "No entries yet" in page.read_text() and "<title>empty &lt;board&gt;</title>" in page.read_text()
    assert "No entries yet" in table.read_text() and "empty &lt;board&gt;" in table.read_text()


# ----------------------------------------------------------------------------- browser tests

browser = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture()
def loaded(driver: Any, site: tuple[Path, Path]) -> Any:
    driver.get(site[0].as_uri())
    return driver


def _section_css(task_id: str) -> str:
    return f'section[data-task="{task_id}"]'


def _scores(driver: Any, task_id: str) -> list[float]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, f"{_section_css(task_id)} tbody tr td:nth-child(4)")
    return [float(c.get_attribute("data-sort")) for c in cells]


@browser
def test_browser_loads_without_console_errors(loaded: Any) -> None:
    logs = loaded.get_log("browser")
    severe = [entry for entry in logs if entry["level"] == "SEVERE"]
    assert not severe, severe
    loaded.execute_script("document.images[0].scrollIntoView()")  # figures load lazily
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(loaded, 10).until(lambda d: d.execute_script("return document.images[0].complete"))
    assert loaded.execute_script("return document.images.length === 1 && document.images[0].naturalWidth === 1")
    assert not [entry for entry in loaded.get_log("browser") if entry["level"] == "SEVERE"]


@browser
def test_browser_sorts_by_score(loaded: Any) -> None:
    from selenium.webdriver.common.by import By

    before = _scores(loaded, GAME)
    assert before == sorted(before, reverse=True) and len(before) == 6
    header = loaded.find_element(By.CSS_SELECTOR, f"{_section_css(GAME)} thead th:nth-child(4)")
    assert header.text.strip() == "Score"
    header.click()
    ascending = _scores(loaded, GAME)
    assert ascending == sorted(before)  # numeric: 17.1 < 126.3 (a string sort would put "126" first)
    assert [str(s) for s in ascending] != sorted(str(s) for s in ascending)
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert _scores(loaded, GAME) == sorted(before, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    # The other task's table is untouched.
    assert _scores(loaded, PLANNER) == sorted(_scores(loaded, PLANNER), reverse=True)


@browser
def test_browser_shows_hostile_name_as_text(loaded: Any, entries: list[Result]) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    names = [e.text for e in loaded.find_elements(By.CSS_SELECTOR, f"{_section_css(GAME)} td.method .name")]
    assert XSS in names and MD_INJECT in names
    with pytest.raises(NoAlertPresentException):
        loaded.switch_to.alert  # noqa: B018 - the property raises when no alert is open
    assert len(loaded.find_elements(By.TAG_NAME, "script")) == 2
    assert loaded.find_elements(By.CSS_SELECTOR, "td img, td b") == []
    parsed = loaded.execute_script("return JSON.parse(document.getElementById('leaderboard-data').textContent)")
    assert [p["method"] for p in parsed if p["method"] == XSS] == [XSS]
    links = [a.get_attribute("href") for a in loaded.find_elements(By.CSS_SELECTOR, "section.task td a")]
    assert links and all(h.startswith("https://") for h in links)


@browser
def test_browser_chart_has_one_point_per_entry(loaded: Any, entries: list[Result]) -> None:
    from selenium.webdriver.common.by import By

    for task_id in (PLANNER, GAME):
        n = sum(r.task.id == task_id for r in entries)
        svg = loaded.find_element(By.CSS_SELECTOR, f"{_section_css(task_id)} svg.chart")
        assert svg.is_displayed() and svg.size["width"] > 300
        points = svg.find_elements(By.CSS_SELECTOR, "circle.point")
        assert len(points) == n == len(loaded.find_elements(By.CSS_SELECTOR, f"{_section_css(task_id)} tbody tr"))
        tips = loaded.execute_script(
            "return Array.from(arguments[0].querySelectorAll('g.pt > title')).map(t => t.textContent)", svg
        )
        assert len(tips) == n and all(t.startswith("#") for t in tips)
    tips = loaded.execute_script(
        f"return Array.from(document.querySelectorAll('{_section_css(GAME)} g.pt > title')).map(t => t.textContent)"
    )
    assert any(XSS in t for t in tips)


def test_row_shows_the_most_tempted_group(tmp_path: Path) -> None:
    """A game's row is headed by the group with the largest relative gap, named beside it (not the first group's)."""
    game = "econbench/CapitalGoodsGame-v0"
    r = measure(game, "competitive", method="competitive play", authors=["econbench"])
    by_group = {g.group: g for g in r.gaps}
    assert list(by_group) == ["households", "firms"] and by_group["firms"].relative > by_group["households"].relative
    assert r.headline_gap() is by_group["firms"]
    swapped = r.model_copy(update={"gaps": [by_group["firms"], by_group["households"]]})
    assert swapped.headline_gap() is by_group["firms"]
    render([r], tmp_path)
    row = next(line for line in (tmp_path / "LEADERBOARD.md").read_text().splitlines() if "competitive play" in line)
    assert f"{fmt(by_group['firms'].relative)}" in row and "firms)" in row


@browser
def test_browser_overview_links_reach_their_sections(loaded: Any) -> None:
    from selenium.webdriver.common.by import By

    rows = loaded.find_elements(By.CSS_SELECTOR, "#overview tbody tr")
    assert [r.get_attribute("data-task") for r in rows] == [PLANNER, GAME]
    for k in range(len(rows)):
        link = loaded.find_elements(By.CSS_SELECTOR, "#overview tbody tr a")[k]
        target = link.get_attribute("href").split("#", 1)[1]
        link.click()
        assert loaded.execute_script("return location.hash") == "#" + target
        section = loaded.find_element(By.ID, target)
        assert section.get_attribute("data-task") == rows[k].get_attribute("data-task")
        top = loaded.execute_script("return arguments[0].getBoundingClientRect().top", section)
        assert abs(top) < 5  # scrolled to the section
    assert not [e for e in loaded.get_log("browser") if e["level"] == "SEVERE"]


# For each element: the characters after which the rendered text breaks onto a new line.
_BREAKS_JS = """
var out = [];
arguments[0].forEach(function (el) {
  var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), chars = [], node;
  while ((node = walker.nextNode())) {
    for (var i = 0; i < node.length; i++) { chars.push([node, i]); }
  }
  var prevTop = null, prevChar = null;
  chars.forEach(function (c) {
    var r = document.createRange(); r.setStart(c[0], c[1]); r.setEnd(c[0], c[1] + 1);
    var rect = r.getClientRects()[0], ch = c[0].data[c[1]];
    if (!rect) { return; }
    if (prevTop !== null && rect.top > prevTop + 2) { out.push(prevChar + ch); }
    prevTop = rect.top; prevChar = ch;
  });
});
return out;
"""


@browser
def test_browser_wraps_long_names_only_between_parts(
    driver: Any, measured: dict[str, list[Result]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    long_policy = "shared_ppo_cpu_seed0_" + "_".join(["checkpoint"] * 6) + "-final/run.v2"
    entry = variant(
        measured[PLANNER][1],
        1.0,
        method="SB3 PPO with_a_rather_long_method_name (shipped)",
        policy=long_policy,
        verified=True,
    )
    page, _ = render([entry], tmp_path)
    driver.set_window_size(700, 900)
    try:
        driver.get(page.as_uri())
        cells = driver.find_elements(
            By.CSS_SELECTOR,
            "table.board td.method .name, table.board td:nth-child(3), #overview td .name, #overview td .policy",
        )
        assert cells
        breaks = driver.execute_script(_BREAKS_JS, cells)
        assert breaks, "the narrow window should force a long name onto several lines"
        assert all(pair[0] in " _-/.:,;)]" for pair in breaks), breaks
    finally:
        driver.set_window_size(1400, 1000)

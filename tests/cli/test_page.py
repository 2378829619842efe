"""The search page in headless Chromium: type a query, see explained hits, move a weight, compare."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from braid.eval.synthetic_metadata import metadata_of
from tests.cli.conftest import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_search_page_shows_fused_hits_with_per_retriever_bars(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#index-info")).to_contain_text("200 documents")
        page.fill("#query", "vitamin D and bone density")
        with page.expect_response("**/search"):
            page.press("#query", "Enter")
        hits = page.locator("#hits-main .hit")
        expect(hits).to_have_count(10)
        first = hits.first
        expect(first.locator(".bars > span")).to_contain_text(["bm25", "#", "splade", "#", "dense", "#"])
        assert first.locator(".bar").count() == 3
        before = hits.locator(".doc-id").all_inner_texts()
        page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

        # All weight on dense: the request carries it and the list follows.
        for name, value in (("bm25", "0"), ("splade", "0")):
            with page.expect_response("**/search"):
                page.locator(f"#weight-main-{name}").fill(value)
        expect(page.locator("#weight-main-bm25 + .weight-value")).to_have_text("0.00")
        after = hits.locator(".doc-id").all_inner_texts()
        assert after != before

        page.click("#tab-compare")
        expect(page.locator("#hits-left .hit")).to_have_count(10)
        with page.expect_response("**/search"):
            page.locator("#method-right").select_option("rrf")
        expect(page.locator("#hits-right .hit")).to_have_count(10)
        page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
        browser.close()
    for picture in ("search.png", "compare.png"):
        assert (tmp_path / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def metadata_server(metadata_index: Path) -> Iterator[str]:
    with running_server(metadata_index) as url:
        yield url


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_filter_box_narrows_hits_and_shows_errors(metadata_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(metadata_server)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#filter")).to_have_attribute("placeholder", re.compile(r"bucket \(integer\), category \(keyword\), published \(date\)"))
        page.fill("#query", "vitamin D and bone density")
        page.fill("#filter", '{"term": {"category": "c3"}')
        page.press("#query", "Enter")
        expect(page.locator("#error")).to_contain_text("filter: not JSON")
        page.fill("#filter", '{"term": {"colour": "red"}}')
        with page.expect_response("**/search"):
            page.press("#query", "Enter")
        expect(page.locator("#error")).to_contain_text("422: filter.term: unknown field 'colour'")
        page.fill("#filter", '{"term": {"category": "c3"}}')
        with page.expect_response("**/search"):
            page.press("#query", "Enter")
        expect(page.locator("#error")).to_be_hidden()
        expect(page.locator("#filter-info")).to_have_text(re.compile(r"filter applied: \d+ of 200 documents match"))
        shown = [text.split(" · ")[0] for text in page.locator("#hits-main .hit .doc-id").all_inner_texts()]
        browser.close()
    assert shown and all(metadata_of(doc_id)["category"] == "c3" for doc_id in shown)  # BM25: only matching documents that hold a query word

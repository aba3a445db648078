"""The search page in real headless Chromium (Debian's, driven by Playwright): type a Chinese
query, see results; an IME composition must not fire a search until it ends."""

import shutil
from pathlib import Path

import pytest

from yuyi import open_collection
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.serve import ServeSettings, create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def page_server(e5, tmp_path_factory, running_server, trained_reranker):
    from yuyi.rerank import load_reranker

    store = open_store(str(tmp_path_factory.mktemp("browser-store")))
    docs = [Document("watch", "这款防水手表适合游泳时佩戴。", {"title": "防水手表"}),
            Document("tea", "龙井茶产于杭州西湖。", {"title": "龙井茶"}),
            Document("tokyo", "東京タワーは東京都港区にある電波塔です。", {"title": "東京タワー"})]
    ingest(store, "shop", docs, e5)
    ingest(store, "strict", docs, e5)
    open_collection("strict", store, encoder=e5).set_defaults(min_score=0.88)  # hide weak matches
    app = create_app(ServeSettings(rerank_model=str(trained_reranker)), encoder=e5, store=store,
                     reranker=load_reranker(str(trained_reranker)))
    with running_server(app) as srv:
        yield srv


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_chinese_query_in_the_browser(page_server):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(locale="zh-CN")
        page.goto(page_server.url + "/?collection=shop")
        page.wait_for_selector("#collection option[value=shop]", state="attached")

        # An input method composing 防水: no search may run until the composition ends.
        page.evaluate("""() => {
            const q = document.getElementById('q');
            q.focus();
            q.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
            q.value = 'fang';
            q.dispatchEvent(new InputEvent('input', {data: 'fang', isComposing: true}));
        }""")
        page.wait_for_timeout(700)
        assert page.locator(".result").count() == 0
        page.evaluate("""() => {
            const q = document.getElementById('q');
            q.value = '防水手錶';
            q.dispatchEvent(new CompositionEvent('compositionend', {data: '防水手錶'}));
        }""")
        page.wait_for_selector(".result")
        first = page.locator(".result").first
        assert first.get_attribute("data-doc") == "watch"
        assert page.locator(".result mark").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "search-composition.png"), full_page=True)

        # Typing and pressing Enter, keyword mode.
        page.fill("#q", "")
        page.check("input[value=keyword]")
        page.keyboard.type("龙井茶")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('.result')?.dataset.doc === 'tea'")
        page.screenshot(path=str(SCREENSHOTS / "search-keyword.png"), full_page=True)

        # A collection with a relevance floor: a query nothing matches says so instead of
        # listing the nearest unrelated documents.
        page.goto(page_server.url + "/?collection=strict")
        page.wait_for_selector("#collection option[value=strict]", state="attached")
        page.fill("#q", "如何申请个人所得税退税")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('status').textContent.includes('no good match')")
        assert page.locator(".result").count() == 0
        page.fill("#q", "防水手表")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('.result')?.dataset.doc === 'watch'")

        # The server has a reranker: the toggle shows, and a reranked list says so per result.
        page.goto(page_server.url + "/?collection=shop")
        page.wait_for_selector("#rerank-toggle:not([hidden])")
        page.check("#rerank")
        page.fill("#q", "防水手表")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('status').textContent.includes('reranked')")
        assert page.locator(".result .badge.rerank").count() == page.locator(".result").count() > 0
        page.screenshot(path=str(SCREENSHOTS / "search-rerank.png"), full_page=True)
        browser.close()

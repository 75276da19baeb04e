"""The staff console in headless Chromium (Debian's, driven by Playwright; no browser download)."""
import shutil

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live import LiveServer
from tests.fakes.staff import create_staff

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_login_claim_reply_in_the_console_reaches_the_web_chat(browser, settings, clean_redis):
    with LiveServer(settings, clean_redis, rasa_url=None) as live:
        create_staff(clean_redis, "duty1", "a long test password")
        # the employee, in their own browser context (own cookie), uses the real chat page
        employee = browser.new_context().new_page()
        employee.goto(f"{live.url}/chat")
        expect(employee.locator(".msg.bot").first).to_contain_text("心驿")
        employee.get_by_role("button", name="同意", exact=True).click()
        expect(employee.get_by_text("想从哪里开始")).to_be_visible()
        employee.fill("#t", "我想自杀")
        employee.press("#t", "Enter")
        expect(employee.locator(".msg.safety").last).to_contain_text("12356")

        staff = browser.new_context().new_page()
        staff.goto(f"{live.url}/console")
        staff.fill("#username", "duty1")
        staff.fill("#password", "a long test password")
        staff.click("#login")
        row = staff.locator("#queue tbody tr").first
        expect(row).to_contain_text("高危")
        row.get_by_role("link", name="查看").click()
        expect(staff.locator("#msgs")).to_contain_text("我想自杀")
        staff.click("#claim")
        expect(staff.locator("#status")).to_contain_text("claimed")
        staff.fill("#reply", "你好，我是值班的王老师，我在。")
        staff.click("#send")
        expect(staff.locator("#msgs .m.staff").last).to_contain_text("王老师")

        expect(employee.locator(".msg.staff").last).to_contain_text("我是值班的王老师", timeout=5000)
        staff.select_option("#disposition", "referred")
        staff.click("#close")
        expect(staff.locator("#alert")).to_contain_text("已关闭")

"""Headless Chromium: claim → canned reply → note → transfer to a colleague (who is paged live,
with a beep) → close with 随访; the employee sees the reply in the web chat."""
import re

import pytest
from playwright.sync_api import expect

from tests.live import LiveServer
from tests.test_console_browser import browser  # noqa: F401  (the shared Chromium fixture)
from tests.fakes.staff import create_staff

pytestmark = pytest.mark.browser
PW = "a long test password"


def log_in(browser, live, username):  # noqa: F811
    page = browser.new_context().new_page()
    page.goto(f"{live.url}/console")
    page.fill("#username", username)
    page.fill("#password", PW)
    page.click("#login")
    expect(page.locator("#duty")).not_to_be_empty()
    return page


def test_claim_reply_transfer_close_in_the_browser(browser, settings, clean_redis):  # noqa: F811
    with LiveServer(settings, clean_redis, rasa_url=None) as live:
        create_staff(clean_redis, "city_day1", PW)
        create_staff(clean_redis, "city_day2", PW)
        employee = browser.new_context().new_page()
        employee.goto(f"{live.url}/chat")
        expect(employee.locator(".msg.bot").first).to_contain_text("心驿")
        employee.fill("#t", "我想自杀")
        employee.press("#t", "Enter")
        expect(employee.locator(".msg.safety").last).to_contain_text("12356")

        colleague = log_in(browser, live, "city_day2")   # waiting on the queue page
        staff = log_in(browser, live, "city_day1")
        row = staff.locator("#queue tbody tr").first
        expect(row).to_contain_text("高危")
        expect(row).to_contain_text("已通知")
        row.get_by_role("link", name="查看").click()
        expect(staff.locator("#msgs")).to_contain_text("我想自杀")
        staff.click("#claim")
        expect(staff.locator("#status")).to_contain_text("claimed（city_day1）")

        staff.get_by_role("button", name="自我介绍").click()
        expect(staff.locator("#reply")).to_have_value(re.compile(r"^你好，我是工会心灵驿站的值班心理辅导员"))
        staff.click("#send")
        expect(staff.locator("#msgs .m.staff").last).to_contain_text("值班心理辅导员")
        expect(employee.locator(".msg.staff").last).to_contain_text("值班心理辅导员", timeout=5000)

        staff.fill("#note", "评估：有计划，已确认身边有家人")
        staff.click("#add-note")
        expect(staff.locator("#notes .note")).to_contain_text("有计划")
        expect(employee.locator(".msg").last).not_to_contain_text("有计划")

        staff.select_option("#to-staff", "city_day2")
        staff.click("#transfer-staff")
        expect(staff.locator("#status")).to_contain_text("claimed（city_day2）")
        expect(staff.locator("#history")).to_contain_text("转交同事")

        banner = colleague.locator("#pages .page").first
        expect(banner).to_contain_text("呼叫你", timeout=6000)
        expect(banner).to_contain_text("转交给你")
        assert colleague.evaluate("window.beeps || 0") >= 1
        banner.get_by_role("link").click()
        expect(colleague.locator("#msgs")).to_contain_text("我想自杀")
        colleague.select_option("#disposition", "follow_up")
        expect(colleague.locator("#fu-wrap")).to_be_visible()
        colleague.select_option("#fu-days", "3")
        colleague.click("#close")
        expect(colleague.locator("#alert")).to_contain_text("已关闭")
        expect(colleague.locator("#history")).to_contain_text("安排随访")
        colleague.goto(f"{live.url}/console")
        expect(colleague.locator("#followups tbody tr")).to_contain_text("随访")
        expect(colleague.locator("#empty")).to_be_visible()

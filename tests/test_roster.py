"""The roster over the org tree: shifts, holidays, 调休, overnight shifts, routing up, supervisors, CLI."""
import pytest
from typer.testing import CliRunner

from escalation.orgs import Orgs
from escalation.roster import Roster
from tests.escalation_kit import ORGS_FILE, at, real_roster


@pytest.fixture(scope="module")
def roster():
    return real_roster()


def test_weekday_day_goes_to_the_base_unit_itself(roster):
    r = roster.route("dongcheng_hospital", at("2026-03-02 10:00"))  # Monday
    assert (r.team, r.on_duty, r.backup, r.skipped) == ("dongcheng_hospital", ("dch_duty",), ("dch_backup",), ())
    assert r.supervisors[:2] == ("dc_sup", "city_sup")


def test_evening_goes_up_to_the_first_ancestor_with_someone_on_duty(roster):
    r = roster.route("dongcheng_hospital", at("2026-03-02 18:00"))
    assert r.team == "city" and r.skipped == ("dongcheng_hospital", "dongcheng") and r.on_duty == ("city_day1",)
    assert roster.route("haidian_tech", at("2026-03-02 18:00")).team == "haidian_tech"  # its own longer hours


def test_overnight_shift_belongs_to_the_day_it_starts(roster):
    assert roster.duty("city", at("2026-03-03 03:00")).on_duty == ("city_night1",)
    assert roster.duty("city", at("2026-03-03 07:59")).shifts == ("夜班",)
    assert roster.duty("city", at("2026-03-03 08:00")).on_duty == ("city_day1",)


def test_weekends_holidays_overrides_and_makeup_workdays(roster):
    assert roster.duty("city", at("2026-03-07 10:00")).on_duty == ("city_we1",)          # Saturday
    assert roster.duty("haidian", at("2026-03-07 10:00")).on_duty == ("hd_duty2",)       # [sat] shift
    assert roster.duty("dongcheng", at("2026-05-01 10:00")) is None                        # Labour Day: holiday
    assert roster.duty("city", at("2026-05-01 10:00")).on_duty == ("city_we1",)
    assert roster.duty("dongcheng", at("2026-10-10 10:00")).on_duty == ("dc_duty1",)      # Saturday, 调休 workday
    national = roster.duty("city", at("2026-10-01 03:00"))                                 # override replaces shifts
    assert set(national.on_duty) == {"city_we1", "city_night1"}
    assert "国庆值守" in national.shifts


def test_nobody_anywhere_pages_the_supervisor_chain_and_finds_the_next_shift(tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text("""
teams:
  city:
    supervisors: [boss]
    shifts: [{name: day, days: workdays, start: "09:00", end: "17:00", on_duty: [a], backup: [b], supervisor: s1}]
  dongcheng_hospital:
    supervisors: [local_boss]
""", encoding="utf-8")
    roster = Roster.load(path, Orgs.load(ORGS_FILE))
    r = roster.route("dongcheng_hospital", at("2026-03-07 03:00"))  # Saturday night
    assert r.team is None and r.on_duty == () and r.supervisors == ("local_boss", "boss")
    assert roster.next_shift_in_chain("dongcheng_hospital", at("2026-03-07 03:00")) == at("2026-03-09 09:00")


def test_service_hours_for_callbacks(roster):
    assert roster.next_service_time("dongcheng_hospital", at("2026-03-02 10:00")) == at("2026-03-02 10:00")
    assert roster.next_service_time("dongcheng_hospital", at("2026-03-06 18:00")) == at("2026-03-09 09:00")
    assert roster.next_service_time("dongcheng_street", at("2026-03-02 20:00")) == at("2026-03-03 08:30")  # parent's
    assert roster.in_service("city", at("2026-03-07 10:00"))


@pytest.mark.parametrize("bad, message", [
    ("teams: {nowhere: {shifts: []}}", "not an organisation"),
    ("teams: {city: {shifts: [{days: funday, start: '08:00', end: '09:00', on_duty: [a]}]}}", "unknown days"),
    ("teams: {city: {shifts: [{start: '8', end: '09:00', on_duty: [a]}]}}", "HH:MM"),
])
def test_a_broken_roster_is_refused_with_a_reason(tmp_path, bad, message):
    path = tmp_path / "roster.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        Roster.load(path, Orgs.load(ORGS_FILE))


def test_cli_roster_show():
    from bot.cli import app
    out = CliRunner().invoke(app, ["roster", "show", "--at", "2026-03-02 18:30", "--org", "dongcheng_hospital"])
    assert out.exit_code == 0, out.output
    assert "无人值班 → 转 市总工会职工心灵驿站 [city]" in out.output and "张老师(city_day1)" in out.output
    assert "主管链：郑主任(dc_sup), 刘主任(city_sup)" in out.output
    every = CliRunner().invoke(app, ["roster", "show", "--at", "2026-03-02 10:00"])
    assert every.exit_code == 0 and "冯医生(dch_duty)" in every.output and "延庆供电公司工会" in every.output
    bad = CliRunner().invoke(app, ["roster", "show", "--at", "yesterday"])
    assert bad.exit_code != 0

"""The safety reply: care, 24-hour numbers, and that a person is being contacted — always."""
from __future__ import annotations

from escalation.orgs import Orgs
from nlu.risk import Risk


def safety_reply(orgs: Orgs, org_id: str | None, risk: Risk) -> str:
    org = orgs.get(org_id)
    head = ("听到你这么说，我很担心你。你的安全是现在最重要的事。"
            if risk < Risk.imminent else
            "我非常担心你现在的安全。如果你已经受伤、服了药或正处在危险的地方，请马上拨打 120 或 110，或请身边的人立刻帮你。")
    return (
        f"{head}\n"
        f"我已经在联系工会的值班心理辅导员，他们会尽快在这里回复你。在等待的时候，你可以随时拨打 24 小时热线：\n"
        f"{orgs.hotlines_text(org_id)}\n"
        f"紧急情况请拨打 {org.emergency}。\n"
        f"你愿意的话，可以继续告诉我你现在在哪里、身边有没有人。"
    )


def concern_reply(orgs: Orgs, org_id: str | None) -> str:
    return (
        "谢谢你愿意说出来，这些感受一定很沉重。你不需要一个人扛着。\n"
        "我已经请工会的心理辅导员在值班时间回电或回复你。如果感觉撑不住了，这些电话 24 小时都有人接：\n"
        f"{orgs.hotlines_text(org_id)}\n"
        "想的话，也可以继续和我说说发生了什么。"
    )


def holding_reply() -> str:
    return "我在，值班人员会在这里回复你。如果情况紧急，请立即拨打 110 / 120 或 12356。"

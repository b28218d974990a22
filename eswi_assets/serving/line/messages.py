"""Everything the bot says, in Traditional Chinese, in one place: the texts and the LINE message
objects that carry them (the answer with its 1-5 rating buttons)."""

from __future__ import annotations

from linebot.v3.messaging import PostbackAction, QuickReply, QuickReplyItem, TextMessage

from eswi_assets.serving.line.postback import SCORES, choice_data, rating_data

LINE_TEXT_LIMIT = 5000
EXAMPLE = "社區長照據點開幕"
COMPARE_WORD = "比較"  # a title starting with it gets two texts to choose from

RATE_HOW = "讀完後請按下方 1 到 5 的按鈕評分（1 是很差，5 是很好），您的評分會用來改進模型。"
BUSY = "目前使用的人太多或模型還在準備中，請稍後再試一次。"
TOO_LONG = "訊息太長了，請傳一個比較短的標題。"
UNREADABLE = "這則訊息裡有無法處理的字元，請換個寫法再試一次。"
EMPTY_PROMPT = f"請告訴我要寫什麼：傳一個標題給我，例如「{EXAMPLE}」。"
NOT_TEXT = f"我目前只看得懂文字喔！請傳一個標題給我，例如「{EXAMPLE}」。"
NOT_RATEABLE = "這則回覆已經過期，或不是寫給您的，所以無法評分。"
COMPARE_HOW = (
    f"想幫忙比較兩個模型嗎？以「{COMPARE_WORD}」開頭傳標題（例如「{COMPARE_WORD} {EXAMPLE}」），"
    "我會寫兩篇，請選出比較好的一篇。"
)
NO_COMPARISON = "目前只有一個模型上線，暫時無法比較；請直接傳標題給我。"
TOO_OFTEN = "您傳得有點快，請稍等一下再試。"
EMPTY_ANSWER = "（模型沒有寫出內容）"


def greeting(prefix: str) -> str:
    """For a new (or unblocking) friend in a one-on-one chat."""
    return (
        f"您好！我是 ESWI 寫作小幫手。傳一個標題給我（例如「{EXAMPLE}」），我會寫一篇短文給您。"
        f"\n{RATE_HOW}\n{COMPARE_HOW}\n"
        f"也可以把我加進群組：在群組裡請標註我，或以「{prefix}」開頭傳標題。"
    )


def group_greeting(prefix: str) -> str:
    """When the bot joins a group or room: how to address it there."""
    return (
        "大家好！我是 ESWI 寫作小幫手。在群組裡我只回應找我的訊息："
        f"請標註我，或以「{prefix}」開頭傳一個標題，例如「{prefix} {EXAMPLE}」。\n{RATE_HOW}"
    )


def thanks(score: int) -> str:
    return f"謝謝您的評分（{score} 分）！"


CHOSEN = {
    "first": "謝謝！您選了第一篇。",
    "second": "謝謝！您選了第二篇。",
    "both_bad": "謝謝！我們會記下兩篇都不好。",
}


def text(message: str) -> TextMessage:
    return TextMessage(text=message)


def answer(written: str, generation_id: str) -> TextMessage:
    """The generated text with a rating button per score."""
    buttons = QuickReply(
        items=[
            QuickReplyItem(
                action=PostbackAction(
                    label=f"{score} ★",
                    data=rating_data(generation_id, int(score)),
                    display_text=f"評分：{score}",
                )
            )
            for score in SCORES
        ]
    )
    return TextMessage(text=written.strip()[:LINE_TEXT_LIMIT] or EMPTY_ANSWER, quick_reply=buttons)


def comparison(first: str, second: str, comparison_id: str) -> list[TextMessage]:
    """Two texts for one title, the buttons to choose under the second (LINE shows quick
    replies of the last message only)."""
    buttons = QuickReply(
        items=[
            QuickReplyItem(
                action=PostbackAction(
                    label=label, data=choice_data(comparison_id, choice), display_text=label
                )
            )
            for choice, label in (
                ("first", "第一篇較好"),
                ("second", "第二篇較好"),
                ("both_bad", "兩篇都不好"),
            )
        ]
    )
    limit = LINE_TEXT_LIMIT - 10
    return [
        TextMessage(text=f"【第一篇】\n{first.strip()[:limit] or EMPTY_ANSWER}"),
        TextMessage(
            text=f"【第二篇】\n{second.strip()[:limit] or EMPTY_ANSWER}", quick_reply=buttons
        ),
    ]

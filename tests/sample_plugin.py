"""A third-party plugin, as the entry point group `flowbot.plugins` would name it."""

from engine.actions import ActionContext, action


@action("sample.echo", params={"type": "object", "properties": {"text": {"type": "string"}}})
def echo(ctx: ActionContext, text: str = "") -> dict:
    return {"text": text}

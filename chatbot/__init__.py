"""年检助手: the WeChat webhook, storage, service layer, CLI and simulator."""

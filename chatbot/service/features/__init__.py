"""The service's half of each chat feature: one ``apply(applier, command)`` per feature, for the command
union its dialog module declares (dialogs/<feature>.py); chatbot/service/apply.py registers them all
and checks, at import, that every command type the included routers declare has exactly one."""

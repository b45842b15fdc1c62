"""The WeChat side: the protocol (signatures, safe-mode crypto, parsing, passive replies), the webhook
blueprint, the API client for pushes, QR codes and media, and the development stand-ins — a fake WeChat
API on loopback and the simulator that signs messages as WeChat does. Nothing here knows the inspection's
rules; it turns WeChat traffic into ``Inbound`` messages for the service and replies back into XML."""

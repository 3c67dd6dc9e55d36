"""Run by Home Assistant's own Python (aiohttp is there): log in as a user made by
`hass --script auth add`, as the login page would (login flow, then the authorization code for
tokens), ask the websocket API for a long-lived access token, as a user does on their profile
page, and give the kitchen light the alias "Kitchen Light", as a user does in its settings
(Home Assistant matches names and aliases literally). Prints the token.

usage: python provision.py URL USERNAME PASSWORD"""

import asyncio
import sys

import aiohttp

CLIENT_ID = "http://edgeai.test/"


async def main(url: str, username: str, password: str) -> str:
    async with aiohttp.ClientSession(url) as http:
        flow = await _json(
            http.post(
                "/auth/login_flow",
                json={
                    "client_id": CLIENT_ID,
                    "handler": ["homeassistant", None],
                    "redirect_uri": CLIENT_ID,
                },
            )
        )
        done = await _json(
            http.post(
                f"/auth/login_flow/{flow['flow_id']}",
                json={"client_id": CLIENT_ID, "username": username, "password": password},
            )
        )
        tokens = await _json(
            http.post(
                "/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": done["result"],
                    "client_id": CLIENT_ID,
                },
            )
        )
        async with http.ws_connect("/api/websocket") as ws:
            assert (await ws.receive_json())["type"] == "auth_required"
            await ws.send_json({"type": "auth", "access_token": tokens["access_token"]})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json(
                {
                    "id": 1,
                    "type": "auth/long_lived_access_token",
                    "client_name": "edgeai tests",
                    "lifespan": 1,
                }
            )
            token = await _result(ws)
            await ws.send_json(
                {
                    "id": 2,
                    "type": "config/entity_registry/update",
                    "entity_id": "light.kitchen_lights",
                    "aliases": ["Kitchen Light"],
                }
            )
            await _result(ws)
            return str(token)


async def _result(ws):
    reply = await ws.receive_json()
    if not reply.get("success"):
        raise SystemExit(f"websocket request failed: {reply}")
    return reply["result"]


async def _json(request):
    async with request as response:
        if response.status != 200:
            raise SystemExit(f"{response.url}: HTTP {response.status}: {await response.text()}")
        return await response.json()


if __name__ == "__main__":
    print(asyncio.run(main(*sys.argv[1:4])))

"""The lines VAMS 2.5.1 would write for given requests, by VAMS's own code.

`_format_log_message` is copied verbatim from VAMS 2.5.1 (commit b00eb46)
backend/backend/customLogging/auditLogging.py (Apache-2.0, Amazon.com, Inc.), logging shim aside;
each payload is built as VAMS's handler builds it (handlers/auth/apiKeyService.py,
handlers/roles/createRole.py, handlers/roles/roleService.py, handlers/userRoles/userRolesService.py).

stdin:  {"cases": [{"type", "user", "roles", "body", "apiKeyId", "item"}], "summaries": [str]}
stdout: {"lines": [the part before " --- "], "summaries": [json.dumps(json.loads(s))]}
"""
import json
import sys
from typing import Any, Dict


class _Logger:
    def exception(self, *args):
        pass


logger = _Logger()


def _format_log_message(event_type: str, user_context: Dict[str, Any], custom_data: Any) -> str:
    try:
        # Format user and roles
        user = user_context.get("user", "UNKNOWN")
        roles = user_context.get("roles", [])
        mfa_enabled = user_context.get("mfaEnabled", False)

        # Build the message
        message_parts = [
            event_type,
            f"[user: {user}]",
            f"[roles: {json.dumps(roles)}]",
            f"[mfaEnabled: {mfa_enabled}]"
        ]

        # Add custom data if provided
        if custom_data is not None:
            if isinstance(custom_data, dict):
                try:
                    message_parts.append(json.dumps(custom_data))
                except Exception as e:
                    message_parts.append(str(custom_data))
            else:
                message_parts.append(str(custom_data))

        return " ".join(message_parts)
    except Exception as e:
        logger.exception(f"Failed to format log message: {e}")
        return f"{event_type} [ERROR: Failed to format message]"


def _strip(value):
    # pydantic Field(strip_whitespace=True)
    return value.strip() if isinstance(value, str) else value


def payload(case):
    kind, body = case["type"], case.get("body") or {}
    if kind == "apiKeyCreate":
        return {
            "apiKeyId": case["apiKeyId"],
            "apiKeyName": _strip(body["apiKeyName"]),
            "userId": _strip(body["userId"]),
            "expiresAt": _strip(body.get("expiresAt")) or '',
            "operation": "create"
        }
    if kind == "apiKeyUpdate":
        update_fields = {'updatedAt': "now"}
        for name in ("description", "expiresAt", "isActive"):
            if body.get(name) is not None:
                update_fields[name] = body[name]
        return {
            "apiKeyId": case["apiKeyId"],
            "updatedFields": list(update_fields.keys()),
            "operation": "update"
        }
    if kind == "apiKeyDelete":
        item = case["item"]
        return {
            "apiKeyId": case["apiKeyId"],
            "apiKeyName": item.get('apiKeyName', ''),
            "userId": item.get('userId', ''),
            "operation": "delete"
        }
    if kind in ("roleCreate", "roleUpdate"):
        return {
            "roleName": _strip(body["roleName"]),
            "operation": "create" if kind == "roleCreate" else "update",
            "description": _strip(body["description"]),
            "mfaRequired": body.get("mfaRequired", False)
        }
    if kind == "roleDelete":
        return {"roleName": case["roleName"], "operation": "delete"}
    if kind in ("userRoleCreate", "userRoleUpdate"):
        return {
            "userId": _strip(body["userId"]),
            "operation": "create" if kind == "userRoleCreate" else "update",
            "roleNames": body["roleName"]
        }
    if kind == "userRoleDelete":
        return {"userId": _strip(body["userId"]), "operation": "delete"}
    raise ValueError(f"no VAMS rule for {kind}")


def main():
    request = json.load(sys.stdin)
    lines = []
    for case in request["cases"]:
        # _extract_user_context: the caller's id, roles and mfaEnabled (API keys: False).
        user_context = {"user": case["user"], "roles": case["roles"], "mfaEnabled": False}
        event_type = f"[AUTHCHANGES][type: {case['type']}]"
        lines.append(_format_log_message(event_type, user_context, payload(case)))
    summaries = [json.dumps(json.loads(s)) for s in request["summaries"]]
    json.dump({"lines": lines, "summaries": summaries}, sys.stdout)


main()

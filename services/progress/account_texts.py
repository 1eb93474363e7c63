"""The texts of account messages the gateway asks progress to deliver (activation and reset codes,
invitations, lock notices, join decisions), per language; see reminders.account_message."""

from __future__ import annotations

ACCOUNT_RULES = frozenset(
    ("activation_code", "reset_code", "invite_code", "account_locked", "join_approved", "join_rejected")
)
ACCOUNT_MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "activation_code": (
            "Ustaz code {code}",
            "Your Ustaz activation code is {code}. It is valid for {minutes} min: {link}",
        ),
        "reset_code": (
            "Ustaz code {code}",
            "Your Ustaz password-reset code is {code}. It is valid for {minutes} min: {link}",
        ),
        "invite_code": (
            "Ustaz invitation, code {code}",
            "You are invited to Ustaz. Set your password with the code {code}: {link}",
        ),
        "account_locked": (
            "Ustaz: login locked",
            "After too many failed attempts, logging in to your Ustaz account is locked for {minutes} min. If it was not you, reset your password: {link}",
        ),
        "join_approved": (
            "Ustaz: you are in the registry",
            "Your school's coordinator approved your request. Activate your account: {link}",
        ),
        "join_rejected": (
            "Ustaz: request not approved",
            "Your school's coordinator did not approve your request to join. Ask them why.",
        ),
    },
    "ru": {
        "activation_code": (
            "Код Ustaz {code}",
            "Ваш код активации Ustaz: {code}. Он действует {minutes} мин: {link}",
        ),
        "reset_code": (
            "Код Ustaz {code}",
            "Ваш код для смены пароля Ustaz: {code}. Он действует {minutes} мин: {link}",
        ),
        "invite_code": (
            "Приглашение в Ustaz, код {code}",
            "Вас пригласили в Ustaz. Задайте пароль с кодом {code}: {link}",
        ),
        "account_locked": (
            "Ustaz: вход заблокирован",
            "После слишком многих неудачных попыток вход в ваш аккаунт Ustaz заблокирован на {minutes} мин. Если это были не вы, смените пароль: {link}",
        ),
        "join_approved": (
            "Ustaz: вы в реестре",
            "Координатор вашей школы одобрил заявку. Активируйте аккаунт: {link}",
        ),
        "join_rejected": (
            "Ustaz: заявка не одобрена",
            "Координатор вашей школы не одобрил заявку на вступление. Уточните у него причину.",
        ),
    },
}

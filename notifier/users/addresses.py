"""A directory user's addresses by the kind of address a channel needs (``Channel.address_kind``)."""

from notifier.channels.base import AddressKind
from notifier.users.directory import UserProfile


def profile_addresses(profile: UserProfile) -> dict[str, tuple[str, ...]]:
    """A user's addresses other than email, by kind: their phone, their push tokens, their id."""
    return {
        AddressKind.phone: (profile.phone,) if profile.phone else (),
        AddressKind.push_token: tuple(dict.fromkeys(token for token in profile.push_tokens if token)),
        AddressKind.user_id: (profile.id,),
    }

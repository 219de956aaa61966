"""A mailing's dry run: whom it reaches, whom it skips and why, and three sample messages per channel.

It walks the audience the way the generator will (the same pages of the
same user directory, the same preference rules, the same addresses per
channel: :mod:`notifier.services.reach`) and renders samples in the same
template sandbox (:mod:`notifier.services.samples`), but writes nothing: no
delivery, no short link, no message. The verdicts are those of the moment
the mailing goes out (its time, or now). A big audience is walked up to a
limit; the result then says it covers the first part only.
"""

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from notifier.models import Mailing, Notification
from notifier.pipeline.addressing import Addressee
from notifier.pipeline.audience import audience_page
from notifier.pipeline.context import StageContext
from notifier.services.mailing_plans import audience_of
from notifier.services.mailings import count_audience
from notifier.services.progress import reason_kind
from notifier.services.reach import Reach
from notifier.services.samples import SampleMail, SampleRenderer
from notifier.users import UserDirectory

#: Recipients a dry run looks at, at most (each costs a few preference queries).
DEFAULT_LIMIT: Final = 2000
SAMPLES_PER_CHANNEL: Final = 3
PAGE_SIZE: Final = 500

#: A recipient and the address a sample is rendered for.
Target = tuple[Addressee, str]


@dataclass(frozen=True)
class DryRunSetup:
    """What a dry run reads: the rules, the templates and the user directory."""

    reach: Reach
    samples: SampleRenderer
    directory: UserDirectory
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class DryRun:
    """What a launch would do."""

    #: Recipients the audience names (``None``: the directory cannot count them).
    total: int | None
    examined: int
    #: Recipients who get at least one message.
    reached: int
    #: Messages to send (a recipient on two channels, or with two devices, counts more than once).
    messages: int
    #: Why recipient x channel pairs are skipped, with how many.
    skipped: Mapping[str, int]
    samples: Sequence[SampleMail]
    #: Reasons not to launch (a template that renders for nobody, an audience nobody is reached in).
    problems: Sequence[str]
    #: Whether the whole audience was examined (else the counts are of the first ``examined``).
    complete: bool

    @property
    def skipped_total(self) -> int:
        """Skipped recipient x channel pairs."""
        return sum(self.skipped.values())


@dataclass
class _Tally:
    examined: int = 0
    reached: int = 0
    messages: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    #: channel -> the first reached recipients on it, to render.
    targets: dict[str, list[Target]] = field(default_factory=dict)

    def skip(self, reason: str, pairs: int = 1) -> None:
        self.skipped[reason_kind(reason)] += pairs

    def target(self, channel: str, target: Target) -> None:
        targets = self.targets.setdefault(channel, [])
        if len(targets) < SAMPLES_PER_CHANNEL:
            targets.append(target)


def _examine(
    reach: Reach, notification: Notification, addressee: Addressee, moment: dt.datetime, tally: _Tally,
) -> None:
    channels = notification.channels
    tally.examined += 1
    if not reach.reachable(addressee, channels):
        tally.skip(reach.missing(addressee, channels[0]), len(channels))
        return
    reached = False
    for channel in channels:
        refusal = reach.refusal(notification, addressee, channel, moment)
        if refusal is not None:
            tally.skip(refusal)
            continue
        addresses = reach.addresses(addressee, channel)
        tally.messages += len(addresses)
        tally.target(channel, (addressee, addresses[0]))
        reached = True
    tally.reached += int(reached)


def _walk(
    setup: DryRunSetup, notification: Notification, mailing: Mailing, moment: dt.datetime,
) -> tuple[_Tally, bool]:
    context = StageContext(
        session=setup.reach.session, templates=setup.samples.templates, channels={}, users=setup.directory,
    )
    probe = Mailing(audience=audience_of(mailing), cursor=None)  # never added: the draft's own row is not touched
    tally = _Tally()
    while tally.examined < setup.limit:
        page_size = min(PAGE_SIZE, setup.limit - tally.examined)
        page = audience_page(replace(context, expansion_page=page_size), notification, probe)
        for _recipient, reason in page.skipped:
            tally.examined += 1
            tally.skip(reason, len(notification.channels))
        for addressee in page.addressees:
            _examine(setup.reach, notification, addressee, moment, tally)
        if page.next_cursor is None:
            return tally, True
        probe.cursor = page.next_cursor
    return tally, False


def _problems(tally: _Tally, samples: Sequence[SampleMail]) -> list[str]:
    if not tally.reached:
        return ['the mailing reaches nobody: check the audience and the channels']
    problems = []
    for channel in tally.targets:
        rendered = [sample for sample in samples if sample.channel == channel]
        if all(sample.error for sample in rendered):
            problems.append('{0}: {1}'.format(channel, rendered[0].error))
    return problems


def dry_run(setup: DryRunSetup, notification: Notification, mailing: Mailing, moment: dt.datetime) -> DryRun:
    """What launching ``mailing`` at ``moment`` would do (raises ``DirectoryUnavailableError`` like the generator)."""
    tally, complete = _walk(setup, notification, mailing, moment)
    samples = [
        setup.samples.render(notification, addressee, address, channel)
        for channel, targets in tally.targets.items()
        for addressee, address in targets
    ]
    return DryRun(
        total=count_audience(setup.reach.session, audience_of(mailing)),
        examined=tally.examined,
        reached=tally.reached,
        messages=tally.messages,
        skipped=dict(tally.skipped.most_common()),
        samples=samples,
        problems=_problems(tally, samples),
        complete=complete,
    )

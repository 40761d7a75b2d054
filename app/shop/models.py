"""The shopper side's own data: published batch manifests with each item's proof, the results
of checking items' metadata against their on-chain hashes, and the product passports and
pictures published to the service, each kept under its content's keccak256. Off-chain facts: a
reorg leaves them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utc_now
from app.index.models import ADDRESS, HEX32


class PublishedManifest(Base):
    """A batch manifest a merchant published, signed."""

    __tablename__ = "shop_manifests"
    # The item pages' version reads the latest publication on every request (app.shop.page_facts).
    __table_args__ = (Index("ix_shop_manifests_published_at", "published_at"),)

    root: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    merchant: Mapped[str] = mapped_column(String(ADDRESS))
    content_hash: Mapped[str] = mapped_column(String(HEX32))
    onchain_metadata_hash: Mapped[str] = mapped_column(String(HEX32))
    item_count: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(132))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ManifestItem(Base):
    """One item of a published manifest, with the proof the service rebuilt for it."""

    __tablename__ = "shop_manifest_items"
    __table_args__ = (Index("ix_shop_manifest_items_item", "item_id"),)

    root: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    metadata_hash: Mapped[str] = mapped_column(String(HEX32))
    metadata_uri: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    leaf: Mapped[str] = mapped_column(String(HEX32))
    proof: Mapped[str] = mapped_column(Text)  # JSON list of 0x hex nodes
    # The item's key (IProductRegistry.ItemKey): the registry derives the id from it under the
    # batch's merchant, so verifyBatchItem takes the key, not the id. None: published before keys.
    id_scheme: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(Text)
    serial: Mapped[str | None] = mapped_column(Text)

    def key(self) -> tuple[int, str, str] | None:
        """The ItemKey tuple a contract call takes, if the manifest named one."""
        if self.id_scheme is None or self.code is None or self.serial is None:
            return None
        return (self.id_scheme, self.code, self.serial)


class MetadataCheckRow(Base):
    """The last check of a metadata URI against a hash."""

    __tablename__ = "shop_metadata_checks"

    uri: Mapped[str] = mapped_column(Text, primary_key=True)
    metadata_hash: Mapped[str] = mapped_column(String(HEX32), primary_key=True)
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class PassportRow(Base):
    """A product passport as published: its canonical JSON, under ``keccak256`` of it (the
    ``metadataHash`` an item commits to). ``id`` grows with each publication, so the highest one
    says whether anything was published since a page was made."""

    __tablename__ = "shop_passports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metadata_hash: Mapped[str] = mapped_column(String(HEX32), unique=True)
    document: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class MediaRow(Base):
    """A picture as published, under ``keccak256`` of its bytes, with the media type its bytes
    show (never the one its sender claimed)."""

    __tablename__ = "shop_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    media_hash: Mapped[str] = mapped_column(String(HEX32), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

"""The portal's view of the monitoring schema: Prisma models generated from sql/.

``render`` turns catalog shapes into Prisma schema text (pure), ``drift`` compares two such
texts object by object (pure), ``introspect`` builds the schema from sql/ with the
migration code and reads the shapes back (IO). See docs/prisma.md.
"""

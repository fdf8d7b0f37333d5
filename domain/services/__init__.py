"""Use cases: short functions that open the unit of work, load, check, act and commit.

Conventions shared by every service:
- signature `async def verb(uow, actor, *, ...keyword inputs...) -> changed entity`;
- authorization is asked of the actor (`actor.can(Action..., Scope(...))`) and refused with
  `domain.errors.Forbidden`; an object of another organization is `NotFound`, never `Forbidden`;
- input problems raise the `UserInputError` subclasses with `field` set to the contract's
  camelCase input field name, e.g. `Invalid("...", field=["country"])`;
- every change to an organization's data appends an `AuditEvent` (action = the mutation's name)
  in the same transaction; outgoing email is an `OutboxMessage` in the same transaction;
- only `await uow.commit()` at the very end writes anything.
"""

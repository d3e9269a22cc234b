/**
 * Events to dependent services: the transactional outbox (written with the change it announces)
 * and its feed by cursor; dispatch to webhooks, NATS and MQTT reads the same rows.
 */
export {
  eventTypes,
  outbox,
  type EventPage,
  type EventType,
  type Outbox,
  type OutboxEvent,
  type PublishedEvent,
} from "./outbox.js";

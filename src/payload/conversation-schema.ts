// The chat "conversation ended" webhook (web widget and WhatsApp), as the vendor documents it:
// bekgroup/Famulor-docs-de en/api-reference/webhooks/conversation-ended.mdx (both the current
// page and its first version, which had no `id`, turn times or `attachments`).
import { z } from 'zod';
import { count, e164, timestamp, url, uuid, variables } from './schema-primitives.js';
import type { SchemaMode } from './schema.js';

export const CHAT_ROLES = ['user', 'assistant', 'system'] as const;
export const ATTACHMENT_TYPES = ['image', 'video', 'audio', 'document'] as const;

export function buildConversationSchemas(mode: SchemaMode) {
  const object = mode === 'strict' ? z.strictObject : z.object;

  /** One message; `system` marks events such as a human agent taking over the chat. */
  const chatTurn = object({
    role: z.enum(CHAT_ROLES),
    content: z.string(),
    timestamp: timestamp.nullish(),
    timestamp_unix: z.number().int().nonnegative().nullish(),
  });

  const attachment = object({
    type: z.enum(ATTACHMENT_TYPES),
    url,
    filename: z.string().max(1000).nullish(),
  });

  const conversation = object({
    /** The numeric id the dashboard shows; the API and dedupe use `conversation_id`. */
    id: z.number().int().positive().nullish(),
    conversation_id: uuid,
    assistant_id: uuid.nullish(),
    type: z.enum(['widget', 'whatsapp']),
    message_count: count.nullish(),
    status: z.enum(['ended']).nullish(),
    extracted_variables: variables.nullish(),
    input_variables: variables.nullish(),
    transcript: z.array(chatTurn).nullish(),
    formatted_transcript: z.string().nullish(),
    attachments: z.array(attachment).nullish(),
    customer_phone: e164.nullish(),
    customer_name: z.string().max(1000).nullish(),
    /** The WhatsApp sender (the business's number); null for the widget. */
    sender: object({ phone_number: e164.nullish(), display_name: z.string().max(1000).nullish() }).nullish(),
    created_at: timestamp.nullish(),
    ended_at: timestamp.nullish(),
  });

  return { conversation, chatTurn, attachment };
}

export const strictConversationSchemas = buildConversationSchemas('strict');
export const lenientConversationSchemas = buildConversationSchemas('warn');

export type RawConversation = z.infer<typeof strictConversationSchemas.conversation>;
export type RawChatTurn = z.infer<typeof strictConversationSchemas.chatTurn>;

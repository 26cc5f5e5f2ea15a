/** The XDM class and field groups a feedback dataset's schema needs, with the titles AEP's schema editor shows. */

export const EXPERIENCE_EVENT_CLASS = 'https://ns.adobe.com/xdm/context/experienceevent';

/** A field group the connector fills, and the root of the fields it brings. */
export interface RequiredFieldGroup {
  id: string;
  title: string;
  /** Short-form path of the fields it brings (dot-separated). */
  path: string;
  /** What fails without it. */
  why: string;
}

export const REQUIRED_FIELD_GROUPS: readonly RequiredFieldGroup[] = [
  {
    id: 'https://ns.adobe.com/experience/customerJourneyManagement/message-delivery-feedback',
    title: 'Adobe CJM ExperienceEvent - Message Delivery Feedback Details',
    path: '_experience.customerJourneyManagement.messageDeliveryfeedback',
    why: 'every message.feedback event (feedbackStatus, messageFailure, retryCount)',
  },
  {
    id: 'https://ns.adobe.com/experience/customerJourneyManagement/messageexecution',
    title: 'Adobe CJM ExperienceEvent - Message Execution Details',
    path: '_experience.customerJourneyManagement.messageExecution',
    why: 'every event (messageExecutionID is required)',
  },
  {
    id: 'https://ns.adobe.com/experience/customerJourneyManagement/messageprofile',
    title: 'Adobe CJM ExperienceEvent - Message Profile Details',
    path: '_experience.customerJourneyManagement.messageProfile',
    why: 'every event (channel, messageProfileID)',
  },
  {
    id: 'https://ns.adobe.com/experience/customerJourneyManagement/channelContext',
    title: 'Adobe CJM ExperienceEvent - Channel Context',
    path: '_experience.customerJourneyManagement.emailChannelContext',
    why: 'email addresses and SMS provider details',
  },
  {
    id: 'https://ns.adobe.com/experience/customerJourneyManagement/message-interaction',
    title: 'Adobe CJM ExperienceEvent - Message interaction details',
    path: '_experience.customerJourneyManagement.messageInteraction',
    why: 'message.tracking events (opens, clicks, unsubscribes)',
  },
  {
    id: 'https://ns.adobe.com/xdm/context/identitymap',
    title: 'IdentityMap',
    path: 'identityMap',
    why: 'customer, email and phone identities (Profile stitching)',
  },
];
